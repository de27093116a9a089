using NetVips;

namespace WsiSegment.Tiling.Slides;

/// <summary>
/// Owns the intermediate images of a lazy libvips pipeline: each step's result is <see cref="Add"/>ed, and disposing
/// the chain frees them all (last first). The pipeline's result leaves the chain with <see cref="Keep"/> and belongs to
/// the caller. Freeing an intermediate early is safe: every libvips operation holds references to its inputs.
/// </summary>
public sealed class VipsChain : IDisposable
{
    private readonly List<Image> _owned = [];

    /// <summary>Takes ownership of <paramref name="image"/> and returns it, for <c>x = chain.Add(x.Resize(…))</c>.</summary>
    public Image Add(Image image)
    {
        ArgumentNullException.ThrowIfNull(image);
        ObjectDisposedException.ThrowIf(_disposed, this);
        _owned.Add(image);
        return image;
    }

    /// <summary>Hands <paramref name="image"/>, an image of this chain, to the caller: disposing the chain no longer frees it.</summary>
    public Image Keep(Image image)
    {
        if (!_owned.Remove(image)) throw new ArgumentException("internal: not an image of this chain", nameof(image));
        return image;
    }

    private bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        for (int i = _owned.Count - 1; i >= 0; i--) _owned[i].Dispose();
        _owned.Clear();
    }
}
