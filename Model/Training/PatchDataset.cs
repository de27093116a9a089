using Microsoft.Extensions.Logging;

namespace WsiSegment.Model.Training;

/// <summary>
/// A checked patch dataset: every image and label map was decoded once up front, so a bad file is reported (or,
/// with skip-bad, dropped with a warning) before training starts rather than half way through an epoch. The same
/// pass counts the training label histogram (for the class weights) and the RGB mean/std (for normalisation).
/// </summary>
public sealed class PatchDataset
{
    private PatchDataset(PatchIndex index, int classes, IReadOnlyList<PatchSample> train, IReadOnlyList<PatchSample> val,
        long[] histogram, float[] mean, float[] std, int patchWidth, int patchHeight, IReadOnlyList<string> skipped)
    {
        Index = index;
        Classes = classes;
        Train = train;
        Val = val;
        TrainHistogram = histogram;
        Mean = mean;
        Std = std;
        PatchWidth = patchWidth;
        PatchHeight = patchHeight;
        Skipped = skipped;
    }

    public PatchIndex Index { get; }
    public int Classes { get; }
    public IReadOnlyList<PatchSample> Train { get; }
    public IReadOnlyList<PatchSample> Val { get; }

    /// <summary>Labelled pixels per class over the training split.</summary>
    public IReadOnlyList<long> TrainHistogram { get; }

    /// <summary>Per-channel RGB mean and standard deviation of the training images, in 0..1 units.</summary>
    public float[] Mean { get; }
    public float[] Std { get; }

    /// <summary>The largest patch width and height found (patches are normally all the same size).</summary>
    public int PatchWidth { get; }
    public int PatchHeight { get; }

    /// <summary>Files dropped by skip-bad, each "path: reason".</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>Loads and checks a dataset folder. Throws <see cref="DatasetFormatException"/> naming the first bad
    /// file unless <paramref name="skipBad"/>, in which case bad patches are logged and left out.</summary>
    /// <param name="colour">Applied to each training image before its colour statistics are counted (stain normalisation).</param>
    public static PatchDataset Load(string root, int classes, ImageFileReader reader, bool skipBad, ILogger? log = null,
        CancellationToken ct = default, Func<DecodedImage, DecodedImage>? colour = null)
    {
        if (classes is < 2 or > 255) throw new ArgumentOutOfRangeException(nameof(classes), classes, "2..255 classes");
        var index = PatchIndex.Load(root);
        string indexPath = Path.Combine(root, PatchIndex.IndexFileName);
        if (index.Samples.Count == 0)
            throw new DatasetFormatException(indexPath, "lists no patches: the dataset is empty");

        var train = new List<PatchSample>();
        var val = new List<PatchSample>();
        var skipped = new List<string>();
        var histogram = new long[classes];
        double[] sum = new double[3], sumSq = new double[3];
        long pixels = 0;
        int maxW = 0, maxH = 0;
        int test = 0;
        foreach (var sample in index.Samples)
        {
            ct.ThrowIfCancellationRequested();
            if (sample.Split == DatasetSplit.Test) { test++; continue; }
            try
            {
                var (image, labels) = Read(sample, classes, reader);
                if (sample.Split == DatasetSplit.Train)
                {
                    foreach (var l in labels.Pixels) if (l != PatchAugmenter.IgnoreLabel) histogram[l]++;
                    AccumulateColour((colour is null ? image : colour(image)).Pixels, sum, sumSq);
                    pixels += (long)image.Width * image.Height;
                }
                maxW = Math.Max(maxW, image.Width);
                maxH = Math.Max(maxH, image.Height);
                (sample.Split == DatasetSplit.Train ? train : val).Add(sample);
            }
            catch (DatasetFormatException e) when (skipBad)
            {
                skipped.Add(e.Message);
                log?.LogWarning("Skipping {File}: {Reason}", e.FilePath, e.Reason);
            }
        }
        if (train.Count == 0)
            throw new DatasetFormatException(indexPath, skipped.Count > 0
                ? $"no usable training patches ({skipped.Count} skipped as bad)"
                : "has no training patches (split column: every row is val)");
        if (val.Count == 0)
            throw new DatasetFormatException(indexPath, "has no validation patches (split=val): extract at least one slide into val"
                + (test > 0 ? $" ({test} test patches are held out and never used in training)" : ""));
        var mean = new float[3];
        var std = new float[3];
        for (int c = 0; c < 3; c++)
        {
            double m = sum[c] / pixels;
            mean[c] = (float)(m / 255.0);
            std[c] = (float)Math.Max(Math.Sqrt(Math.Max(sumSq[c] / pixels - m * m, 0)) / 255.0, 1e-3);
        }
        return new PatchDataset(index, classes, train, val, histogram, mean, std, maxW, maxH, skipped);
    }

    /// <summary>Decodes one sample and checks it: RGB image, single-band labels of the same size, every id &lt; classes
    /// or <see cref="PatchAugmenter.IgnoreLabel"/> (unlabelled).</summary>
    public static (DecodedImage Image, DecodedImage Labels) Read(PatchSample sample, int classes, ImageFileReader reader)
    {
        var image = Decode(sample.ImagePath, 3, reader);
        var labels = Decode(sample.LabelPath, 1, reader);
        if (image.Width != labels.Width || image.Height != labels.Height)
            throw new DatasetFormatException(sample.LabelPath,
                $"label map is {labels.Width}x{labels.Height} but its image {Path.GetFileName(sample.ImagePath)} is {image.Width}x{image.Height}");
        if (image.Width < 8 || image.Height < 8)
            throw new DatasetFormatException(sample.ImagePath, $"patch of {image.Width}x{image.Height} is too small (at least 8x8)");
        byte max = 0;
        foreach (var l in labels.Pixels) if (l > max && l != PatchAugmenter.IgnoreLabel) max = l;
        if (max >= classes)
            throw new DatasetFormatException(sample.LabelPath, $"label value {max} is not a class id (the model has {classes} classes: 0..{classes - 1}; 255 = unlabelled)");
        return (image, labels);
    }

    private static DecodedImage Decode(string path, int bands, ImageFileReader reader)
    {
        DecodedImage d;
        try
        {
            d = reader(path, bands);
        }
        catch (DatasetFormatException) { throw; }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException)
        {
            string reason = e.Message.StartsWith(path, StringComparison.Ordinal) ? e.Message[(path.Length)..].TrimStart(':', ' ') : e.Message;
            throw new DatasetFormatException(path, e is FileNotFoundException ? "no such file" : reason, e);
        }
        if (d.Bands != bands || d.Pixels.Length != (long)d.Width * d.Height * bands)
            throw new DatasetFormatException(path, $"decoded to {d.Bands} bands, expected {bands}");
        return d;
    }

    private static void AccumulateColour(byte[] rgb, double[] sum, double[] sumSq)
    {
        long s0 = 0, s1 = 0, s2 = 0, q0 = 0, q1 = 0, q2 = 0;
        for (int i = 0; i + 2 < rgb.Length; i += 3)
        {
            int r = rgb[i], g = rgb[i + 1], b = rgb[i + 2];
            s0 += r; s1 += g; s2 += b;
            q0 += r * r; q1 += g * g; q2 += b * b;
        }
        sum[0] += s0; sum[1] += s1; sum[2] += s2;
        sumSq[0] += q0; sumSq[1] += q1; sumSq[2] += q2;
    }
}
