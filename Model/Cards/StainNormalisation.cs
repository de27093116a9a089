using System.Text.Json.Serialization;

namespace WsiSegment.Model.Cards;

/// <summary>
/// Stain normalisation fitted once on a reference image and stored in the model card, so every patch the model
/// sees — in training, <c>segment</c>, <c>watch</c> and <c>cluster</c> — is mapped to the reference's colours first.
/// Reinhard: per-patch LAB mean/std moved to the reference's <see cref="LabMean"/>/<see cref="LabStd"/>.
/// Macenko: per-patch H&amp;E stain vectors and 99th-percentile concentrations estimated from optical density, then
/// re-rendered with the reference's <see cref="StainMatrix"/> (RGB OD of H, then E) and <see cref="MaxConcentrations"/>.
/// </summary>
public sealed record StainNormalisation
{
    public const string Reinhard = "reinhard";
    public const string Macenko = "macenko";

    /// <summary>"reinhard" or "macenko".</summary>
    public string Method { get; init; } = Reinhard;

    /// <summary>The reference image's file name (for people; the numbers below are what is applied).</summary>
    public string? Reference { get; init; }

    public double[]? LabMean { get; init; }
    public double[]? LabStd { get; init; }

    /// <summary>Macenko: [H_r, H_g, H_b, E_r, E_g, E_b], unit optical-density vectors.</summary>
    public double[]? StainMatrix { get; init; }
    public double[]? MaxConcentrations { get; init; }

    [JsonIgnore] public bool IsMacenko => Method == Macenko;

    public void Validate(string source)
    {
        void Fail(string why) => throw new ModelCardException(source, "stain_normalisation: " + why);
        static bool Finite(double[]? v, int n) => v is not null && v.Length == n && v.All(double.IsFinite);
        switch (Method)
        {
            case Reinhard:
                if (!Finite(LabMean, 3) || !Finite(LabStd, 3) || LabStd!.Any(s => !(s > 0))) Fail("reinhard needs lab_mean and positive lab_std, three each");
                break;
            case Macenko:
                if (!Finite(StainMatrix, 6) || !Finite(MaxConcentrations, 2) || MaxConcentrations!.Any(c => !(c > 0)))
                    Fail("macenko needs a stain_matrix of 6 and positive max_concentrations of 2");
                break;
            default:
                Fail($"method '{Method}' is not reinhard or macenko");
                break;
        }
    }
}
