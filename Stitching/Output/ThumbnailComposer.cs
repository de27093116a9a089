using NetVips;
using WsiSegment.Core.Classes;

namespace WsiSegment.Stitching.Output;

/// <summary>X.thumb.png: the slide thumbnail and the coloured mask side by side, so a person looks before reading.</summary>
public static class ThumbnailComposer
{
    /// <summary>
    /// Writes <paramref name="path"/> (PNG, about <paramref name="totalWidth"/> px wide): the slide thumbnail on the left,
    /// the labels in class colours on the right, both scaled to the same panel size (labels with nearest neighbour).
    /// </summary>
    /// <param name="slideThumbnail">A 3-band 8-bit RGB thumbnail of the whole slide, as Tiling reads slides (not disposed here).</param>
    public static void Write(string path, Image slideThumbnail, ReducedLabels labels, ClassTable classes, int totalWidth = 1024, int gap = 8)
    {
        ArgumentNullException.ThrowIfNull(slideThumbnail);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(classes);
        if (slideThumbnail.Bands != 3 || slideThumbnail.Format != Enums.BandFormat.Uchar)
            throw new ArgumentException($"the slide thumbnail must be 3-band 8-bit RGB (Tiling's RgbImage.ToRgb8), not {slideThumbnail.Bands} band(s) of {slideThumbnail.Format}", nameof(slideThumbnail));
        if (totalWidth < 2 * 8 + gap) throw new ArgumentOutOfRangeException(nameof(totalWidth), totalWidth, "too narrow for two panels");
        VipsCheck.Ensure();
        int panel = (totalWidth - gap) / 2;
        // Both panels show the same field: size them from the label image's aspect (the analysis image), within a
        // panel-sized square, so a 1×40,000 slide gives a tall thin strip, not a 1024×5,080,000 px picture.
        double aspect = labels.SourceHeight / (double)labels.SourceWidth;
        int panelHeight = Math.Max(1, (int)Math.Round(panel * aspect));
        if (panelHeight > panel)
        {
            panelHeight = panel;
            panel = Math.Max(1, (int)Math.Round(panel / aspect));
        }
        try
        {
            using var left = slideThumbnail.Resize(panel / (double)slideThumbnail.Width, vscale: panelHeight / (double)slideThumbnail.Height);
            using var mask = Image.NewFromMemory(labels.Colourise(classes), labels.Width, labels.Height, 3, Enums.BandFormat.Uchar);
            // Nearest neighbour: scaling must not blend class colours into colours no class has.
            using var right = mask.Resize(panel / (double)labels.Width, kernel: Enums.Kernel.Nearest, vscale: panelHeight / (double)labels.Height);
            using var joined = left.Join(right, Enums.Direction.Horizontal, expand: true, shim: gap, background: [255, 255, 255]);
            AtomicFile.Write(path, temp => joined.Pngsave(temp));
        }
        catch (VipsException e)
        {
            throw VipsCheck.WriteError(path, e);
        }
    }
}
