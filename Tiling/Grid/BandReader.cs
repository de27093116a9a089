using System.Buffers;
using NetVips;
using WsiSegment.Tiling.Resolution;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tiling.Grid;

/// <summary>Memory bound of a <see cref="BandReader"/>.</summary>
public sealed record BandReaderOptions
{
    /// <summary>
    /// Largest region (bytes of RGB) computed in one libvips call. A band wider than this is read in column chunks,
    /// so memory depends on neither the slide's width nor its height. Default 32 MiB: 12 tiles of 1024, which holds a
    /// whole band of a 10,000-px-wide level, and the same chunk for any wider one.
    /// </summary>
    public long MaxChunkBytes { get; init; } = 32L << 20;
}

/// <summary>
/// Streams the patches of a <see cref="PatchGrid"/> from an <see cref="AnalysisImage"/> one row band at a time
/// (a band is one patch row: Tile analysis rows starting at row·stride, overlap included). Pixels beyond the
/// image's right/bottom border are mirror padding (libvips <c>embed</c> with <c>Extend.Mirror</c>: reflection that
/// repeats the edge pixel, … c b a | a b c …, periodic for images smaller than a tile). Only regions holding
/// patches that run are decoded; skipped patches are handed out without pixels, in their raster place.
/// Decoding is fail-on-error: a corrupt tile throws <see cref="CorruptSlideException"/> naming the slide.
/// <para>
/// Typical use: <c>Task.Run</c> a loop over <see cref="ReadPatches"/> that writes into a bounded channel; the
/// consumer disposes each patch when done with its pixels.
/// </para>
/// </summary>
public sealed class BandReader : IDisposable
{
    private readonly AnalysisImage _image;
    private readonly Image _padded;
    private readonly int _chunkCols;
    private bool _disposed;

    public BandReader(AnalysisImage image, PatchGrid grid, PatchSelection? selection = null, BandReaderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(grid);
        if (grid.Width != image.Width || grid.Height != image.Height)
            throw new ArgumentException($"grid is for {grid.Width}x{grid.Height} but the analysis image is {image.Width}x{image.Height}", nameof(grid));
        if (selection is not null && !ReferenceEquals(selection.Grid, grid))
            throw new ArgumentException("selection belongs to another grid", nameof(selection));
        options ??= new BandReaderOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxChunkBytes, 1);
        _image = image;
        Grid = grid;
        Selection = selection ?? PatchSelection.All(grid);
        long maxWidth = options.MaxChunkBytes / ((long)grid.Tile * 3); // Widest chunk (pixels) within the bound.
        _chunkCols = (int)Math.Clamp(maxWidth <= grid.Tile ? 1 : 1 + (maxWidth - grid.Tile) / grid.Stride, 1, grid.Cols);
        try
        {
            _padded = image.Image.Embed(0, 0, grid.PaddedWidth, grid.PaddedHeight, extend: Enums.Extend.Mirror);
        }
        catch (VipsException e)
        {
            throw new CorruptSlideException(image.Slide.Path, "cannot pad the analysis image: " + VipsSetup.Clean(e.Message), e);
        }
    }

    public PatchGrid Grid { get; }
    public PatchSelection Selection { get; }

    /// <summary>Patches per libvips read (a band is read in chunks of this many columns).</summary>
    public int ChunkColumns => _chunkCols;

    /// <summary>
    /// Every patch in raster order (skipped ones without pixels). Reports progress after each band; checks the token
    /// before each read. Patches handed out belong to the caller; a patch is cut from its decoded chunk only when the
    /// enumeration reaches it, and the chunk is freed when its last patch is cut or enumeration stops early.
    /// </summary>
    public IEnumerable<Patch> ReadPatches(IProgress<BandProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        int done = 0, skipped = 0;
        for (int row = 0; row < Grid.Rows; row++)
        {
            foreach (var patch in ReadBand(row, cancellationToken))
            {
                done++;
                if (patch.Skipped) skipped++;
                yield return patch;
            }
            progress?.Report(new BandProgress(row + 1, Grid.Rows, done, Grid.Count, skipped));
        }
    }

    /// <summary>The patches of one band (patch row), left to right.</summary>
    public IEnumerable<Patch> ReadBand(int row, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if ((uint)row >= (uint)Grid.Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"grid has {Grid.Rows} bands");
        return Band(row, cancellationToken);
    }

    private IEnumerable<Patch> Band(int row, CancellationToken cancellationToken)
    {
        int col = 0;
        while (col < Grid.Cols)
        {
            var position = Grid.At(row, col);
            if (!Selection.IsRun(position.Index))
            {
                col++;
                yield return new Patch(position, Grid.Tile, null);
                continue;
            }
            // A chunk: consecutive running patches, at most _chunkCols of them.
            int end = col + 1;
            while (end < Grid.Cols && end - col < _chunkCols && Selection.IsRun(Grid.At(row, end).Index)) end++;
            cancellationToken.ThrowIfCancellationRequested();
            using (var chunk = ReadChunk(row, col, end))
            {
                // Each patch is cut (and its buffer rented) only when the consumer asks for it: the patches in flight
                // are the channel's few, not a whole chunk's copy beside the chunk itself.
                for (int c = col; c < end; c++)
                    yield return Cut(chunk, row, col, end, c);
            }
            col = end;
        }
    }

    /// <summary>Decodes the region under patches [c0, c1) of a band (the caller disposes it).</summary>
    private VipsPixels ReadChunk(int row, int c0, int c1)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int tile = Grid.Tile, stride = Grid.Stride;
        int x0 = c0 * stride, y0 = row * stride;
        int width = ChunkWidth(c0, c1);
        Exception Fail(string reason, Exception? e) => new CorruptSlideException(_image.Slide.Path,
            $"pixel data cannot be decoded (band {row}, analysis region {x0},{y0} {width}x{tile}, level {_image.Plan.Level}): {reason}", e);
        Image crop;
        try
        {
            crop = _padded.Crop(x0, y0, width, tile);
        }
        catch (VipsException e)
        {
            throw Fail(VipsSetup.Clean(e.Message), e);
        }
        using (crop)
            return VipsPixels.Compute(crop, Fail);
    }

    private int ChunkWidth(int c0, int c1) => (c1 - c0 - 1) * Grid.Stride + Grid.Tile;

    /// <summary>Copies patch <paramref name="col"/> out of the decoded chunk [c0, c1) into a pooled buffer.</summary>
    private unsafe Patch Cut(VipsPixels chunk, int row, int c0, int c1, int col)
    {
        int tile = Grid.Tile, rowBytes = tile * 3, srcStride = ChunkWidth(c0, c1) * 3;
        var buffer = ArrayPool<byte>.Shared.Rent(tile * tile * 3);
        byte* src = chunk.Address + (long)(col - c0) * Grid.Stride * 3;
        for (int y = 0; y < tile; y++)
            new ReadOnlySpan<byte>(src + (long)y * srcStride, rowBytes).CopyTo(buffer.AsSpan(y * rowBytes, rowBytes));
        return new Patch(Grid.At(row, col), tile, buffer);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _padded.Dispose();
    }
}
