using WsiSegment.Core.Blending;
using WsiSegment.Core.Grid;
using WsiSegment.Core.Scores;

namespace WsiSegment.Stitching.Blending;

/// <summary>
/// Blends overlapping tile predictions into final labels while holding only what is still open.
/// <para>
/// Tiles arrive strictly in raster order (row by row, left to right), each either <see cref="Aggregate"/>d with its
/// class scores or <see cref="Skip"/>ped (no tissue: contributes nothing). After tile (r, c) the block
/// [r·S, r·S + S) × [c·S, c·S + S) is covered by no later tile (plus the image's right/bottom margin at the last
/// column/row): it is argmaxed at once and handed to the <see cref="ILabelSink"/>.
/// </para>
/// <para>
/// Each tile's scores come with their <see cref="ScoreLayout"/> (channels-last: T × T × Classes, the class index
/// fastest, the layout a channels-last network produces, so no transpose is needed between model and stitcher;
/// probabilities or logits, which the accumulator reads from the layout, not from its caller). The grid is the
/// <see cref="TileLayout"/> the band reader cut the patches by.
/// Open state: a bottom strip of O × W × Classes values (the O rows the current tile row shares with the next one;
/// a <see cref="CarryStrip"/>, half-precision mantissas with a shared exponent per pixel) and a right strip of
/// T × O × Classes floats (the O columns the current tile shares with the next tile in its row;
/// it also takes over the bottom strip's values for those columns, so the single bottom strip can be refilled as
/// the row advances). Scores are weighted sums Σ w·p; the argmax needs no division by Σ w, and a pixel that no
/// tile ran over sums to zero everywhere, which the argmax turns into class 0 (background). Pixels only one tile
/// covers need no weights at all (w > 0 does not change an argmax), so they are argmaxed straight from the input.
/// </para>
/// <para>
/// The bottom strip is the only state that grows with the slide's width, so it is held compactly (see
/// <see cref="CarryStrip"/>: about half the memory of floats; a label can change only where its two best classes are
/// within about 0.1 % of each other). It is released at <see cref="Complete"/> (or dispose).
/// </para>
/// Not thread-safe: one consumer feeds it.
/// </summary>
public sealed class BandAccumulator : IDisposable
{
    private readonly TileLayout _g;
    private readonly int _classes;
    private readonly ILabelSink _sink;
    private readonly float[] _profile;   // T: the 1-D window, weight(u, v) = profile[u] · profile[v]
    private readonly float[] _profileC;  // T × Classes: profile[u] repeated per class, to weight interleaved rows
    private readonly CarryStrip _bottom; // [O rows][W][class]
    private readonly float[] _right;     // [T rows][O][class]
    private readonly float[] _scratch;   // [T][class]: one tile row of weighted scores
    private readonly byte[] _labels;     // one final block, at most T × T
    private readonly long[] _counts;
    private int _nextRow, _nextCol;
    private bool _completed;

    public BandAccumulator(TileLayout layout, int classes, ILabelSink sink, BlendMode mode = BlendMode.Gaussian)
    {
        _g = layout ?? throw new ArgumentNullException(nameof(layout));
        _sink = sink ?? throw new ArgumentNullException(nameof(sink));
        if (classes is < 1 or > 256) throw new ArgumentOutOfRangeException(nameof(classes), classes, $"{classes} classes do not fit uint8 labels (1..256)");
        _classes = classes;
        Mode = mode;
        int c = classes, t = layout.Tile, o = layout.Overlap;
        _profile = BlendWindow.Profile(mode, t, o);
        _profileC = new float[t * c];
        for (int u = 0; u < t; u++) _profileC.AsSpan(u * c, c).Fill(_profile[u]);
        _bottom = new CarryStrip(o, layout.Width, c, maxPixels: t);
        _right = new float[c * t * o];
        _scratch = new float[c * t];
        _labels = new byte[t * t];
        _counts = new long[c];
    }

    public TileLayout Layout => _g;
    public int Classes => _classes;
    public BlendMode Mode { get; }

    /// <summary>The tile expected next, or null when every tile has been given.</summary>
    public (int Row, int Col)? Next => _nextRow < _g.Rows ? (_nextRow, _nextCol) : null;

    /// <summary>Scores held in the two carry strips (C·O·W compact + C·T·O floats): what the memory bound is about.</summary>
    public long CarryValues => (long)_bottom.Length + _right.LongLength;

    /// <summary>All buffers the accumulator holds, in bytes.</summary>
    public long BufferBytes => _bottom.Bytes
        + 4L * (_right.LongLength + _scratch.Length + _profile.Length + _profileC.Length) + _labels.Length + 8L * _counts.Length;

    /// <summary>Final pixels per class so far (complete after <see cref="Complete"/>).</summary>
    public ReadOnlySpan<long> PixelCounts => _counts;

    /// <summary>Adds tile (row, col): class scores laid out as <paramref name="layout"/> says (T × T × Classes,
    /// channels-last; probabilities or logits).</summary>
    public void Aggregate(int row, int col, ReadOnlySpan<float> scores, ScoreLayout layout)
    {
        if (layout.Channels != _classes)
            throw new ArgumentException($"tile ({row}, {col}) has {layout.Channels} classes per pixel; the accumulator blends {_classes}", nameof(layout));
        long expected = layout.ImageLength(_g.Tile, _g.Tile);
        if (scores.Length != expected)
            throw new ArgumentException(
                $"tile ({row}, {col}) has {scores.Length} values; expected {_g.Tile}×{_g.Tile}×{_classes} = {expected}",
                nameof(scores));
        Advance(row, col);
        Process(row, col, scores, layout.Kind, present: true);
    }

    /// <summary>Marks tile (row, col) as not run (no tissue): it contributes nothing.</summary>
    public void Skip(int row, int col)
    {
        Advance(row, col);
        Process(row, col, default, default, present: false);
    }

    /// <summary>Checks every tile was given and returns the per-class pixel counts. Call once.</summary>
    public ClassPixelCounts Complete()
    {
        if (_completed) throw new InvalidOperationException("the accumulator was already completed");
        if (Next is { } next)
            throw new InvalidOperationException(
                $"cannot complete: tile ({next.Row}, {next.Col}) of {_g.Rows}×{_g.Cols} has not been aggregated or skipped");
        _completed = true;
        _bottom.Dispose(); // the largest buffer (C·O·W values): give it back before the outputs are written
        return new ClassPixelCounts(_counts.ToArray());
    }

    public void Dispose()
    {
        _completed = true;
        _bottom.Dispose();
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

    private void Process(int row, int col, ReadOnlySpan<float> scores, ScoreKind kind, bool present)
    {
        int t = _g.Tile, s = _g.Stride, o = _g.Overlap, c = _classes;
        var (x0, y0, finalW, finalH) = _g.OwnBlock(row, col);
        bool lastCol = col == _g.Cols - 1;
        int uEnd = Math.Min(t, _g.Width - x0), vEnd = Math.Min(t, _g.Height - y0);
        int left = col > 0 ? o : 0;       // columns [0, left) receive the right strip
        int topFrom = left;               // the top margin's left columns were moved into the right strip
        var scratch = _scratch.AsSpan();
        var labels = _labels.AsSpan(0, finalW * finalH);

        for (int v = 0; v < vEnd; v++)
        {
            var input = present ? scores.Slice(v * t * c, t * c) : default;
            var rowLabels = v < finalH ? labels.Slice(v * finalW, finalW) : default;
            bool received = row > 0 && v < o; // earlier tile rows left scores for this whole row
            bool carried = v >= finalH;       // the whole row goes on to the next tile row

            // Columns whose scores must be summed: received or carried rows entirely; otherwise only the left
            // margin (from the right strip) and the right margin (into it). The middle is this tile's alone.
            int midFrom = received || carried ? uEnd : left;
            int midTo = received || carried ? uEnd : finalW;
            Weigh(input, v, 0, midFrom, kind, present);
            Weigh(input, v, midTo, uEnd, kind, present);
            if (midTo > midFrom)
            {
                if (present) SpanMath.ArgmaxInterleaved(input.Slice(midFrom * c, (midTo - midFrom) * c), c, rowLabels[midFrom..midTo]);
                else rowLabels[midFrom..midTo].Clear();
            }

            // What earlier tiles left for these pixels.
            if (left > 0)
                SpanMath.AddInPlace(scratch[..(o * c)], _right.AsSpan(v * o * c, o * c));
            if (received && uEnd > topFrom)
                _bottom.AddTo(v, x0 + topFrom, scratch[(topFrom * c)..(uEnd * c)]);

            // Final pixels to labels; open ones into the strips (the bottom strip's rows v − S were read at v − S < v).
            if (!carried)
            {
                SpanMath.ArgmaxInterleaved(scratch[..(Math.Min(midFrom, finalW) * c)], c, rowLabels[..Math.Min(midFrom, finalW)]);
                if (finalW > midTo)
                    SpanMath.ArgmaxInterleaved(scratch[(midTo * c)..(finalW * c)], c, rowLabels[midTo..finalW]);
            }
            else
                _bottom.Store(v - s, x0, scratch[..(finalW * c)]);
            if (!lastCol)
                scratch.Slice(s * c, o * c).CopyTo(_right.AsSpan(v * o * c, o * c));
        }

        foreach (byte label in labels) _counts[label]++;
        _sink.Write(x0, y0, finalW, finalH, labels);
    }

    /// <summary>scratch[u] = w(u, v) · p[u] for columns [from, to) of tile row v (zero for a skipped tile).</summary>
    private void Weigh(ReadOnlySpan<float> rowScores, int v, int from, int to, ScoreKind kind, bool present)
    {
        if (to <= from) return;
        int c = _classes;
        var dst = _scratch.AsSpan(from * c, (to - from) * c);
        if (!present) dst.Clear();
        else if (kind == ScoreKind.Logits) SpanMath.SoftmaxWeighted(rowScores.Slice(from * c, (to - from) * c), c, _profile.AsSpan(from), _profile[v], dst);
        else SpanMath.MultiplyScaled(rowScores.Slice(from * c, (to - from) * c), _profileC.AsSpan(from * c), _profile[v], dst);
    }
}
