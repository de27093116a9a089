using System.Globalization;
using System.Text;

namespace WsiSegment.Model.Training;

/// <summary>Appends one row per epoch to OUT/metrics.csv (header written when the file is new).</summary>
public static class MetricsCsv
{
    public const string FileName = "metrics.csv";

    public static void Append(string directory, EpochResult r, IReadOnlyList<string> classNames)
    {
        string path = Path.Combine(directory, FileName);
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        if (!File.Exists(path) || new FileInfo(path).Length == 0)
        {
            sb.Append("stage,epoch,lr,train_loss,val_loss,val_miou,val_pixel_accuracy,seconds,train_patches");
            foreach (var n in classNames) sb.Append(",iou_").Append(Sanitise(n));
            sb.Append('\n');
        }
        sb.Append(r.Stage.ToString().ToLowerInvariant()).Append(',')
            .Append(r.Epoch.ToString(c)).Append(',')
            .Append(r.LearningRate.ToString("G6", c)).Append(',')
            .Append(r.TrainLoss.ToString("0.######", c)).Append(',')
            .Append(r.ValLoss.ToString("0.######", c)).Append(',')
            .Append(r.ValMeanIoU.ToString("0.######", c)).Append(',')
            .Append(r.ValPixelAccuracy.ToString("0.######", c)).Append(',')
            .Append(r.Seconds.ToString("0.##", c)).Append(',')
            .Append(r.TrainPatches.ToString(c));
        foreach (var iou in r.ClassIoU) sb.Append(',').Append(iou is { } v ? v.ToString("0.######", c) : "");
        sb.Append('\n');
        File.AppendAllText(path, sb.ToString());
    }

    private static string Sanitise(string name) =>
        new(name.Select(ch => char.IsLetterOrDigit(ch) ? char.ToLowerInvariant(ch) : '_').ToArray());
}
