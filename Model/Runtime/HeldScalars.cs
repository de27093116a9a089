using TorchSharp;

namespace WsiSegment.Model.Runtime;

/// <summary>
/// Scalars that stay alive for the whole process. TorchSharp 0.107 turns every number handed to a tensor op into a
/// native <see cref="Scalar"/> that nothing references once its handle is read — <c>a.add_(b)</c> passes a
/// temporary alpha of 1. A garbage collection during the native call then lets the finalizer thread free the
/// Scalar while libtorch still reads it: "Unknown scalar type" or, worse, a garbage value. Hot paths therefore pass
/// these rooted Scalars, or a local one under <c>using</c> (which keeps it alive to the end of its scope), never a
/// bare number. GcStormTests proves the training and inference paths under a collection storm.
/// </summary>
public static class HeldScalars
{
    /// <summary>1: the alpha of a plain tensor addition.</summary>
    public static readonly Scalar One = 1.ToScalar();
}
