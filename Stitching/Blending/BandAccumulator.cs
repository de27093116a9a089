namespace WsiSegment.Stitching.Blending;

/// <summary>
/// Blends overlapping tile predictions into final labels while holding only what is still open.
/// <para>
/// Tiles arrive strictly in raster order (row by row, left to right), each either <see cref="Aggregate"/>d with its
/// class probabilities or <see cref="Skip"/>ped (no tissue: contributes nothing). After tile (r, c) the block
/// [r·S, r·S + S) × [c·S, c·S + S) is covered by no later tile (plus the image's right/bottom margin at the last
/// column/row): it is argmaxed at once and handed to the <see cref="ILabelSink"/>.
/// </para>
/// <para>
/// Open state: a bottom strip of Classes × O × W floats (the O rows the current tile row shares with the next one)
/// and a right strip of Classes × T × O floats (the O columns the current tile shares with the next tile in its row;
/// it also takes over the bottom strip's values for those columns, so the single bottom strip can be refilled as
/// the row advances). Scores are weighted sums Σ w·p; the argmax needs no division by Σ w, and a pixel that no
/// tile ran over sums to zero everywhere, which the argmax turns into class 0 (background).
/// </para>
/// Not thread-safe: one consumer feeds it.
/// </summary>
public sealed class BandAccumulator
{
    private readonly StitchGeometry _g;
    private readonly ILabelSink _sink;
    private readonly float[] _profile;   // T: the 1-D window, weight(u, v) = profile[u] · profile[v]
    private readonly float[] _rowWeight; // T: profile · profile[v] for the current tile row
    private readonly float[] _bottom;    // [class][O rows][W]
    private readonly float[] _right;     // [class][T rows][O]
    private readonly float[] _scratch;   // [class][T]: one tile row of scores
    private readonly byte[] _labels;     // one final block, at most T × T
    private readonly long[] _counts;
    private int _nextRow, _nextCol;
    private bool _completed;

    public BandAccumulator(StitchGeometry geometry, ILabelSink sink, BlendMode mode = BlendMode.Gaussian)
    {
        _g = geometry ?? throw new ArgumentNullException(nameof(geometry));
        _sink = sink ?? throw new ArgumentNullException(nameof(sink));
        Mode = mode;
        int c = geometry.Classes, t = geometry.Tile, o = geometry.Overlap;
        _profile = BlendWindow.Profile(mode, t, o);
        _rowWeight = new float[t];
        _bottom = new float[(long)c * o * geometry.Width <= Array.MaxLength
            ? c * o * geometry.Width
            : throw new ArgumentOutOfRangeException(nameof(geometry), $"a carry strip of {c}×{o}×{geometry.Width} floats is too large")];
        _right = new float[c * t * o];
        _scratch = new float[c * t];
        _labels = new byte[t * t];
        _counts = new long[c];
    }

    public StitchGeometry Geometry => _g;
    public BlendMode Mode { get; }

    /// <summary>The tile expected next, or null when every tile has been given.</summary>
    public (int Row, int Col)? Next => _nextRow < _g.Rows ? (_nextRow, _nextCol) : null;

    /// <summary>Floats held in the two carry strips (C·O·W + C·T·O): what the memory bound is about.</summary>
    public long CarryFloats => _bottom.LongLength + _right.LongLength;

    /// <summary>All buffers the accumulator holds, in bytes.</summary>
    public long BufferBytes => 4L * (CarryFloats + _scratch.Length + _profile.Length + _rowWeight.Length) + _labels.Length + 8L * _counts.Length;

    /// <summary>Final pixels per class so far (complete after <see cref="Complete"/>).</summary>
    public ReadOnlySpan<long> PixelCounts => _counts;

    /// <summary>Adds tile (row, col): softmax probabilities laid out Classes × T × T (class planes, row-major).</summary>
    public void Aggregate(int row, int col, ReadOnlySpan<float> probabilities)
    {
        int expected = _g.Classes * _g.Tile * _g.Tile;
        if (probabilities.Length != expected)
            throw new ArgumentException(
                $"tile ({row}, {col}) has {probabilities.Length} values; expected {_g.Classes}×{_g.Tile}×{_g.Tile} = {expected}",
                nameof(probabilities));
        Advance(row, col);
        Process(row, col, probabilities, present: true);
    }

    /// <summary>Marks tile (row, col) as not run (no tissue): it contributes nothing.</summary>
    public void Skip(int row, int col)
    {
        Advance(row, col);
        Process(row, col, default, present: false);
    }

    /// <summary>Checks every tile was given and returns the per-class pixel counts. Call once.</summary>
    public ClassPixelCounts Complete()
    {
        if (_completed) throw new InvalidOperationException("the accumulator was already completed");
        if (Next is { } next)
            throw new InvalidOperationException(
                $"cannot complete: tile ({next.Row}, {next.Col}) of {_g.Rows}×{_g.Cols} has not been aggregated or skipped");
        _completed = true;
        return new ClassPixelCounts(_counts.ToArray());
    }

    private void Advance(int row, int col)
    {
        if (_completed) throw new InvalidOperationException("the accumulator was already completed; create a new one per image");
        if (_nextRow >= _g.Rows)
            throw new InvalidOperationException($"tile ({row}, {col}) is past the end of the {_g.Rows}×{_g.Cols} grid");
        if (row != _nextRow || col != _nextCol)
            throw new InvalidOperationException(
                $"tiles must arrive in raster order: expected tile ({_nextRow}, {_nextCol}), got ({row}, {col})");
        if (++_nextCol == _g.Cols) { _nextCol = 0; _nextRow++; }
    }

    private void Process(int row, int col, ReadOnlySpan<float> probs, bool present)
    {
        int t = _g.Tile, s = _g.Stride, o = _g.Overlap, w = _g.Width, classes = _g.Classes;
        int x0 = col * s, y0 = row * s;
        bool lastCol = col == _g.Cols - 1, lastRow = row == _g.Rows - 1;
        int uEnd = Math.Min(t, w - x0), vEnd = Math.Min(t, _g.Height - y0);
        int finalW = lastCol ? uEnd : s, finalH = lastRow ? vEnd : s;
        int topFrom = col > 0 ? o : 0; // left columns of the top margin were moved into the right strip
        var scratch = _scratch.AsSpan();
        var labels = _labels.AsSpan(0, finalW * finalH);

        for (int v = 0; v < vEnd; v++)
        {
            // 1. This tile's weighted scores for tile row v.
            if (present)
            {
                SpanMath.Scale(_profile.AsSpan(0, uEnd), _profile[v], _rowWeight.AsSpan(0, uEnd));
                for (int k = 0; k < classes; k++)
                    SpanMath.Multiply(probs.Slice((k * t + v) * t, uEnd), _rowWeight, scratch.Slice(k * t, uEnd));
            }
            else
            {
                for (int k = 0; k < classes; k++) scratch.Slice(k * t, uEnd).Clear();
            }

            // 2. What earlier tiles left for these pixels.
            if (col > 0)
                for (int k = 0; k < classes; k++)
                    SpanMath.AddInPlace(scratch.Slice(k * t, o), _right.AsSpan((k * t + v) * o, o));
            if (row > 0 && v < o)
                for (int k = 0; k < classes; k++)
                    SpanMath.AddInPlace(scratch.Slice(k * t + topFrom, uEnd - topFrom), _bottom.AsSpan((k * o + v) * w + x0 + topFrom, uEnd - topFrom));

            // 3. Final pixels to labels; open ones into the strips (the bottom strip's rows v − S were read at v − S < v).
            if (v < finalH)
                SpanMath.Argmax(scratch, t, classes, labels.Slice(v * finalW, finalW));
            else
                for (int k = 0; k < classes; k++)
                    scratch.Slice(k * t, finalW).CopyTo(_bottom.AsSpan((k * o + v - s) * w + x0, finalW));
            if (!lastCol)
                for (int k = 0; k < classes; k++)
                    scratch.Slice(k * t + s, o).CopyTo(_right.AsSpan((k * t + v) * o, o));
        }

        foreach (byte label in labels) _counts[label]++;
        _sink.Write(x0, y0, finalW, finalH, labels);
    }
}
