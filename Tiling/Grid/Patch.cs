using System.Buffers;

namespace WsiSegment.Tiling.Grid;

/// <summary>
/// One patch cut by <see cref="BandReader"/>: Tile×Tile RGB pixels, row-major HWC (R, G, B bytes per pixel),
/// in a buffer rented from <see cref="ArrayPool{T}.Shared"/>. Dispose it (once the pixels are consumed) to return
/// the buffer; after that <see cref="Rgb"/> throws. A skipped patch (too little tissue) carries no pixels.
/// </summary>
public sealed class Patch : IDisposable
{
    private byte[]? _buffer;
    private readonly int _length;

    internal Patch(PatchPosition position, int tile, byte[]? buffer)
    {
        Position = position;
        Tile = tile;
        _buffer = buffer;
        Skipped = buffer is null;
        _length = buffer is null ? 0 : tile * tile * 3;
    }

    /// <summary>A patch with a freshly rented (not cleared) buffer to fill through <see cref="Rgb"/>: for synthetic sources and tests.</summary>
    public static Patch Rent(PatchPosition position, int tile)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(tile, 1);
        return new Patch(position, tile, ArrayPool<byte>.Shared.Rent(tile * tile * 3));
    }

    /// <summary>A skipped patch (no pixels): labelled background downstream.</summary>
    public static Patch CreateSkipped(PatchPosition position, int tile) => new(position, tile, null);

    public PatchPosition Position { get; }
    public int Tile { get; }

    /// <summary>True when the patch is not to be run (labelled background downstream); <see cref="Rgb"/> is then empty.</summary>
    public bool Skipped { get; }

    /// <summary>Exactly Tile·Tile·3 bytes (the rented array may be longer; this slice is the patch).</summary>
    public Memory<byte> Rgb
    {
        get
        {
            if (Skipped) return Memory<byte>.Empty;
            var b = _buffer ?? throw new ObjectDisposedException(nameof(Patch), $"patch {Position.Index} was disposed");
            return b.AsMemory(0, _length);
        }
    }

    public void Dispose()
    {
        var b = Interlocked.Exchange(ref _buffer, null);
        if (b is not null) ArrayPool<byte>.Shared.Return(b);
    }
}

/// <summary>Progress of a <see cref="BandReader"/>: bands (patch rows) and patches handed out so far.</summary>
public readonly record struct BandProgress(int BandsDone, int BandsTotal, int PatchesDone, int PatchesTotal, int PatchesSkipped);
