using System.Globalization;
using NetVips;

namespace WsiSegment.Processor.Training;

/// <summary>
/// Draws OUT/metrics.csv as OUT/metrics.png: train and val loss (top panel) and val mIoU (bottom, 0–1) per epoch,
/// one line each, with axis ranges and a legend — what a user looks at instead of the CSV. Lines are drawn in C#
/// into an RGB buffer; libvips renders the text and writes the PNG.
/// </summary>
public static class MetricsPlot
{
    public const string FileName = "metrics.png";
    private const int Width = 800, Height = 580, Left = 70, Right = 20, Top = 56, PanelHeight = 200, Gap = 60;
    private static readonly (byte R, byte G, byte B) TrainColour = (31, 119, 180), ValColour = (255, 127, 14), IoUColour = (44, 160, 44), Axis = (90, 90, 90), Grid = (225, 225, 225);

    /// <summary>Writes <c>metrics.png</c> beside <c>metrics.csv</c> in <paramref name="directory"/>; returns its path, or null without rows.</summary>
    public static string? Write(string directory)
    {
        string csv = Path.Combine(directory, "metrics.csv");
        if (!File.Exists(csv)) return null;
        var lines = File.ReadAllLines(csv).Where(l => l.Length > 0).ToList();
        if (lines.Count < 2) return null;
        var header = lines[0].Split(',');
        int iEpoch = Array.IndexOf(header, "epoch"), iTrain = Array.IndexOf(header, "train_loss"), iVal = Array.IndexOf(header, "val_loss"), iIoU = Array.IndexOf(header, "val_miou");
        var rows = lines.Skip(1).Select(l => l.Split(',')).Where(f => f.Length > Math.Max(iIoU, iVal)).ToList();
        double P(string[] f, int i) => double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : double.NaN;
        var epochs = rows.Select(f => P(f, iEpoch)).ToArray();
        var train = rows.Select(f => P(f, iTrain)).ToArray();
        var val = rows.Select(f => P(f, iVal)).ToArray();
        var miou = rows.Select(f => P(f, iIoU)).ToArray();

        var rgb = new byte[Width * Height * 3];
        Array.Fill(rgb, (byte)255);
        var texts = new List<(string Text, int X, int Y)>();
        double e0 = epochs.Min(), e1 = Math.Max(epochs.Max(), e0 + 1);
        var losses = train.Concat(val).Where(double.IsFinite).ToArray();
        double l0 = 0, l1 = losses.Length > 0 ? losses.Max() * 1.05 : 1;
        Panel(rgb, Top, e0, e1, l0, l1, texts, "loss");
        Polyline(rgb, epochs, train, Top, e0, e1, l0, l1, TrainColour);
        Polyline(rgb, epochs, val, Top, e0, e1, l0, l1, ValColour);
        int top2 = Top + PanelHeight + Gap;
        Panel(rgb, top2, e0, e1, 0, 1, texts, "val mIoU");
        Polyline(rgb, epochs, miou, top2, e0, e1, 0, 1, IoUColour);
        texts.Add(("epoch", Width / 2 - 20, top2 + PanelHeight + 22));
        string best = miou.Any(double.IsFinite)
            ? string.Create(CultureInfo.InvariantCulture, $"   best val mIoU {miou.Where(double.IsFinite).Max():0.000} at epoch {epochs[Array.IndexOf(miou, miou.Where(double.IsFinite).Max())]:0}")
            : "";
        texts.Add(($"{Path.GetFileName(Path.GetFullPath(directory).TrimEnd('/'))}: {rows.Count} epochs{best}", Left, 10));
        Legend(rgb, texts, Left, Top - 20, ("train loss", TrainColour), ("val loss", ValColour));
        Legend(rgb, texts, Left, top2 - 20, ("val mIoU", IoUColour));

        using var canvas = Image.NewFromMemory(rgb, Width, Height, 3, Enums.BandFormat.Uchar);
        Image result = canvas.Copy(interpretation: Enums.Interpretation.Srgb);
        try
        {
            foreach (var (text, x, y) in texts)
            {
                using var mask = Image.Text(text, font: "DejaVu Sans 10", dpi: 72);
                using var ink = mask.Linear([-1.0], [255.0]).Cast(Enums.BandFormat.Uchar);
                using var ink3 = ink.Bandjoin(ink, ink);
                using var joined = ink3.Bandjoin(mask);
                using var alpha = joined.Copy(interpretation: Enums.Interpretation.Srgb);
                var next = result.Composite2(alpha, Enums.BlendMode.Over, x: x, y: y);
                result.Dispose();
                result = next;
            }
            string path = Path.Combine(directory, FileName);
            using (var flat = result.Flatten(background: [255, 255, 255]).Cast(Enums.BandFormat.Uchar))
                flat.Pngsave(path + ".partial");
            File.Move(path + ".partial", path, overwrite: true);
            return path;
        }
        finally
        {
            result.Dispose();
        }
    }

    private static void Panel(byte[] rgb, int top, double x0, double x1, double y0, double y1, List<(string, int, int)> texts, string label)
    {
        int w = Width - Left - Right;
        for (int k = 0; k <= 4; k++)
        {
            int y = top + PanelHeight - k * PanelHeight / 4;
            Line(rgb, Left, y, Left + w, y, Grid);
            texts.Add((Fmt(y0 + (y1 - y0) * k / 4), 8, y - 7));
        }
        Line(rgb, Left, top, Left, top + PanelHeight, Axis);
        Line(rgb, Left, top + PanelHeight, Left + w, top + PanelHeight, Axis);
        texts.Add((x0.ToString("0", CultureInfo.InvariantCulture), Left - 3, top + PanelHeight + 4));
        texts.Add((x1.ToString("0", CultureInfo.InvariantCulture), Left + w - 20, top + PanelHeight + 4));
        texts.Add((label, Left + w - 70, top - 20));
    }

    private static void Legend(byte[] rgb, List<(string, int, int)> texts, int x, int y, params (string Name, (byte, byte, byte) Colour)[] items)
    {
        foreach (var (name, colour) in items)
        {
            for (int t = -1; t <= 1; t++) Line(rgb, x, y + 7 + t, x + 24, y + 7 + t, colour);
            texts.Add((name, x + 30, y));
            x += 130;
        }
    }

    private static void Polyline(byte[] rgb, double[] xs, double[] ys, int top, double x0, double x1, double y0, double y1, (byte, byte, byte) colour)
    {
        int w = Width - Left - Right;
        (int, int) Map(double x, double y) => (Left + (int)Math.Round((x - x0) / (x1 - x0) * w),
            top + PanelHeight - (int)Math.Round((Math.Clamp(y, y0, y1) - y0) / (y1 - y0) * PanelHeight));
        (int X, int Y)? last = null;
        for (int i = 0; i < xs.Length; i++)
        {
            if (!double.IsFinite(ys[i])) { last = null; continue; }
            var p = Map(xs[i], ys[i]);
            for (int d = -1; d <= 1; d++)
            {
                if (last is { } q) Line(rgb, q.X, q.Y + d, p.Item1, p.Item2 + d, colour);
                else Line(rgb, p.Item1 - 2, p.Item2 + d, p.Item1 + 2, p.Item2 + d, colour); // a lone point
            }
            last = p;
        }
    }

    /// <summary>Bresenham, clipped to the image.</summary>
    private static void Line(byte[] rgb, int x0, int y0, int x1, int y1, (byte R, byte G, byte B) c)
    {
        int dx = Math.Abs(x1 - x0), dy = -Math.Abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
        while (true)
        {
            if (x0 >= 0 && y0 >= 0 && x0 < Width && y0 < Height)
            {
                int o = (y0 * Width + x0) * 3;
                rgb[o] = c.R; rgb[o + 1] = c.G; rgb[o + 2] = c.B;
            }
            if (x0 == x1 && y0 == y1) break;
            int e2 = 2 * err;
            if (e2 >= dy) { err += dy; x0 += sx; }
            if (e2 <= dx) { err += dx; y0 += sy; }
        }
    }

    private static string Fmt(double v) => v.ToString(Math.Abs(v) >= 10 ? "0" : "0.00", CultureInfo.InvariantCulture);
}
