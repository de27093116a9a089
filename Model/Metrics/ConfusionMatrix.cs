namespace WsiSegment.Model.Metrics;

/// <summary>
/// Pixel counts of (truth, predicted) class pairs, accumulated over any number of buffers, images or slides.
/// Pixels whose truth equals <see cref="IgnoreValue"/> are not counted.
/// </summary>
public sealed class ConfusionMatrix
{
    private readonly long[] _counts;

    public ConfusionMatrix(int classes, int? ignoreValue = null)
    {
        if (classes is < 1 or > 256)
            throw new ArgumentOutOfRangeException(nameof(classes), classes, "class count must be 1..256");
        Classes = classes;
        IgnoreValue = ignoreValue;
        _counts = new long[classes * classes];
    }

    public int Classes { get; }
    public int? IgnoreValue { get; }

    /// <summary>Pixels whose truth is <paramref name="truth"/> and whose prediction is <paramref name="predicted"/>.</summary>
    public long this[int truth, int predicted] => _counts[truth * Classes + predicted];

    public long Total { get; private set; }

    /// <summary>Counts one buffer pair. Throws <see cref="InvalidLabelException"/> on a value ≥ the class count.</summary>
    public void Add(ReadOnlySpan<byte> predicted, ReadOnlySpan<byte> truth)
    {
        if (predicted.Length != truth.Length)
            throw new ArgumentException($"predicted has {predicted.Length} pixels, truth {truth.Length}");
        int n = Classes, ignore = IgnoreValue ?? -1;
        long added = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            int t = truth[i];
            if (t == ignore) continue;
            int p = predicted[i];
            if (t >= n) throw new InvalidLabelException("truth", t, n, i);
            if (p >= n) throw new InvalidLabelException("prediction", p, n, i);
            _counts[t * n + p]++;
            added++;
        }
        Total += added;
    }

    /// <summary>Adds another matrix's counts (e.g. from a parallel worker or another slide).</summary>
    public void Merge(ConfusionMatrix other)
    {
        if (other.Classes != Classes)
            throw new ArgumentException($"cannot merge a {other.Classes}-class matrix into a {Classes}-class one");
        for (int i = 0; i < _counts.Length; i++) _counts[i] += other._counts[i];
        Total += other.Total;
    }

    /// <summary>
    /// Scores from the counts. IoU and Dice of a class are undefined (null) when it appears in neither truth nor
    /// prediction; mIoU and mean Dice average the classes that appear in the truth or the prediction, so a class
    /// predicted where it does not exist counts as 0 and an absent class does not dilute the mean.
    /// </summary>
    public SegmentationScores Score(IReadOnlyList<string>? names = null)
    {
        int n = Classes;
        var classes = new List<ClassScore>(n);
        long correct = 0;
        double iouSum = 0, diceSum = 0;
        int present = 0;
        for (int c = 0; c < n; c++)
        {
            long tp = this[c, c], truth = 0, pred = 0;
            for (int k = 0; k < n; k++)
            {
                truth += this[c, k];
                pred += this[k, c];
            }
            correct += tp;
            long union = truth + pred - tp;
            double? iou = union > 0 ? tp / (double)union : null;
            double? dice = truth + pred > 0 ? 2.0 * tp / (truth + pred) : null;
            if (iou is { } v)
            {
                iouSum += v;
                diceSum += dice!.Value;
                present++;
            }
            string name = names is not null && c < names.Count ? names[c] : $"class {c}";
            classes.Add(new ClassScore(c, name, truth, pred, tp, iou, dice));
        }
        var confusion = new long[n][];
        for (int t = 0; t < n; t++)
        {
            confusion[t] = new long[n];
            for (int p = 0; p < n; p++) confusion[t][p] = this[t, p];
        }
        return new SegmentationScores(
            MeanIoU: present > 0 ? iouSum / present : null,
            MeanDice: present > 0 ? diceSum / present : null,
            PixelAccuracy: Total > 0 ? correct / (double)Total : null,
            Pixels: Total,
            Classes: classes,
            Confusion: confusion);
    }
}

/// <summary>One class's counts and scores. IoU = TP / (truth + predicted − TP); Dice = 2 TP / (truth + predicted).</summary>
public sealed record ClassScore(int Id, string Name, long TruthPixels, long PredictedPixels, long TruePositives, double? IoU, double? Dice)
{
    /// <summary>TP / predicted pixels (null when the class was never predicted).</summary>
    public double? Precision => PredictedPixels > 0 ? TruePositives / (double)PredictedPixels : null;

    /// <summary>TP / truth pixels (null when the class is absent from the truth).</summary>
    public double? Recall => TruthPixels > 0 ? TruePositives / (double)TruthPixels : null;
}

/// <summary>All scores of an evaluation, shaped for JSON: <c>Confusion[truth][predicted]</c> pixel counts.</summary>
public sealed record SegmentationScores(
    double? MeanIoU, double? MeanDice, double? PixelAccuracy, long Pixels,
    IReadOnlyList<ClassScore> Classes, long[][] Confusion);

/// <summary>A label value outside 0..classes−1; the caller adds which file it came from.</summary>
public sealed class InvalidLabelException(string side, int value, int classes, long index)
    : Exception($"{side} label value {value} at pixel {index} is not a class (there are {classes} classes: 0..{classes - 1})")
{
    public string Side { get; } = side;
    public int Value { get; } = value;
    public long PixelIndex { get; } = index;
}
