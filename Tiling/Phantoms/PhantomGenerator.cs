using NetVips;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tiling.Phantoms;

/// <summary>
/// Builds an H&amp;E-like tissue phantom as two lazy libvips images that share one label field:
/// nothing is computed until a sink (tiffsave) pulls tiles, so any size streams in bounded memory.
/// <para>
/// Layout: a tissue mask (thresholded multi-octave Perlin noise, threshold chosen for the requested tissue fraction)
/// and, inside it, 7 tissue classes as the arg-max of 7 independent Perlin fields, each with a bias tuned on a
/// subsampled copy so the classes cover about equal areas. Colour: per-class amounts of haematoxylin, eosin and
/// red-cell "stains" (optical densities built from Worley nuclei, line-blurred fibres, Perlin mottle), selected by the
/// label with <c>case</c>, mixed by Beer–Lambert. Every generator is position-hashed with a seed derived from
/// <see cref="PhantomOptions.Seed"/>, so the same options give the same pixels whatever the tiling or thread count.
/// </para>
/// </summary>
public static class PhantomGenerator
{
    private const int TissueClasses = PhantomClasses.Count - 1;

    // Stain optical-density vectors (R, G, B) per unit amount: Ruifrok & Johnston's H and E, and packed red cells.
    private static readonly double[] Haematoxylin = [0.65, 0.70, 0.29];
    private static readonly double[] Eosin = [0.07, 0.99, 0.11];
    private static readonly double[] RedCells = [0.16, 1.00, 0.88];

    public static Phantom Create(PhantomOptions options)
    {
        options.Validate();
        VipsSetup.EnsureInitialised();
        var chain = new VipsChain();
        try
        {
            var layout = PhantomLayout.Plan(options);
            var labels = chain.Add(BuildLabels(options, layout, chain));
            var rgb = chain.Add(BuildRgb(options, labels, chain));
            return new Phantom(labels, rgb, layout.ClassFractions, chain);
        }
        catch
        {
            chain.Dispose();
            throw;
        }
    }

    private static Image BuildLabels(PhantomOptions o, PhantomLayout layout, VipsChain chain)
    {
        Image K(Image i) => chain.Add(i);
        int w = o.Width, h = o.Height;
        var tissue = K(layout.TissueField(w, h, 1, chain) > layout.TissueThreshold);
        Image? best = null, index = null;
        for (int c = 0; c < TissueClasses; c++)
        {
            var field = K(layout.ClassField(c, w, h, 1, chain));
            if (best is null)
            {
                best = field;
                index = K(K(Image.Black(w, h)).Linear([1.0], [1.0], uchar: true));
                continue;
            }
            var greater = K(field > best);
            best = K(greater.Ifthenelse(field, best));
            index = K(greater.Ifthenelse(c + 1.0, index!));
        }
        return K(tissue.Ifthenelse(index!, 0.0)).Cast(Enums.BandFormat.Uchar);
    }

    private static Image BuildRgb(PhantomOptions o, Image labels, VipsChain chain)
    {
        Image K(Image i) => chain.Add(i);
        int w = o.Width, h = o.Height;
        int seed = o.Seed;
        // Fine textures are drawn on a grid of about 1 µm and interpolated up: Worley noise is the costly generator,
        // and nothing finer than 1 µm matters at the 2 µm/px the model sees.
        int t = Math.Max(1, (int)Math.Floor(1.0 / o.Mpp + 1e-9));
        double um = t * o.Mpp; // microns per texture pixel
        int tw = w / t + 3, th = h / t + 3;
        int Px(double microns) => Math.Max(2, (int)Math.Round(microns / um));
        var dense = K(K(Image.Worley(tw, th, cellSize: Px(24), seed: Seeds.Of(seed, 101))).Linear([um], [0.0]));
        var sparse = K(K(Image.Worley(tw, th, cellSize: Px(35), seed: Seeds.Of(seed, 102))).Linear([um], [0.0]));
        var grain = K(Image.Gaussnoise(tw, th, sigma: 1.0, mean: 0.0, seed: Seeds.Of(seed, 103)));
        int fibre = Px(12) | 1;
        var along = K(grain.Conv(K(LineMask(fibre, horizontal: true)), precision: Enums.Precision.Float));
        var across = K(grain.Conv(K(LineMask(fibre, horizontal: false)), precision: Enums.Precision.Float));
        var small = K(dense.Bandjoin(sparse, grain, along, across));
        using var bilinear = Interpolate.NewFromName("bilinear");
        var full = t == 1
            ? K(small.Crop(0, 0, w, h))
            : K(small.Affine([t, 0, 0, t], interpolate: bilinear, oarea: [0, 0, w, h]));
        var dDense = K(full[0]);
        var dSparse = K(full[1]);
        var n = K(full[2]);
        var fH = K(full[3]);
        var fHV = K(K(fH + K(full[4])).Linear([0.7], [0.0]));
        var mottle = K(Image.Perlin(w, h, cellSize: Math.Max(2, (int)Math.Round(40 / o.Mpp)), seed: Seeds.Of(seed, 104)));
        var tone = K(Image.Perlin(w, h, cellSize: Math.Max(2, (int)Math.Round(150 / o.Mpp)), seed: Seeds.Of(seed, 105)));
        var zero = K(Image.Black(w, h));

        // A soft-edged disc of radius r microns around each Worley point: 1 inside, 0 outside, ~1 µm ramp.
        Image Nuclei(Image distance, double r) =>
            K(K(distance.Linear([-255.0], [255.0 * (0.5 + r)], uchar: true)).Linear([1 / 255.0], [0.0]));
        Image Const(double v) => K(zero.Linear([1.0], [v]));
        Image Mix(double c, params (double Weight, Image Field)[] terms)
        {
            Image acc = Const(c);
            foreach (var (weight, field) in terms)
                acc = K(acc + K(field.Linear([weight], [0.0])));
            return acc;
        }
        Image Stains(Image hx, Image eo, Image rc) => K(hx.Bandjoin(eo, rc));
        var none = Const(0);

        var benignNuclei = Nuclei(dSparse, 2.8);
        var malignantNuclei = Nuclei(dDense, 4.2);
        var stromaNuclei = Nuclei(dSparse, 1.4);
        var desmoNuclei = Nuclei(dDense, 2.0);
        var redCells = Nuclei(dDense, 3.5);
        var debris = Nuclei(dDense, 1.3);

        var cases = new Image[PhantomClasses.Count];
        cases[PhantomClasses.Background] = Stains(Mix(0.004, (0.002, n)), Mix(0.012, (0.004, n)), none);
        cases[PhantomClasses.BenignEpithelium] = Stains(
            Mix(0.22, (1.05, benignNuclei), (0.05, tone), (0.03, n)), Mix(0.42, (-0.2, benignNuclei), (0.05, tone)), none);
        cases[PhantomClasses.MalignantEpithelium] = Stains(
            Mix(0.42, (1.45, malignantNuclei), (0.25, mottle), (0.05, n)), Mix(0.26, (0.08, tone)), none);
        cases[PhantomClasses.NormalStroma] = Stains(
            Mix(0.04, (0.8, stromaNuclei)), Mix(0.72, (0.22, fH), (0.08, tone)), none);
        cases[PhantomClasses.DesmoplasticStroma] = Stains(
            Mix(0.24, (0.9, desmoNuclei), (0.1, mottle)), Mix(0.34, (0.14, fHV), (0.05, tone)), Mix(0.05));
        cases[PhantomClasses.Secretion] = Stains(Mix(0.05, (0.03, tone)), Mix(0.17, (0.08, mottle), (0.02, n)), none);
        cases[PhantomClasses.Blood] = Stains(Mix(0.02), Mix(0.08, (0.05, n)), Mix(0.62, (0.55, redCells), (0.08, n)));
        cases[PhantomClasses.Necrosis] = Stains(
            Mix(0.3, (0.28, mottle), (1.0, debris), (0.06, n)), Mix(0.5, (-0.25, mottle), (0.1, tone)), none);

        var stains = K(labels.Case(cases));
        var mixing = K(Image.NewFromArray(new[,]
        {
            { Haematoxylin[0], Eosin[0], RedCells[0] },
            { Haematoxylin[1], Eosin[1], RedCells[1] },
            { Haematoxylin[2], Eosin[2], RedCells[2] },
        }));
        var density = K(stains.Recomb(mixing));
        var transmitted = K(K(density.Linear([-1.0], [0.0])).Exp());
        return transmitted.Linear([255.0], [0.0], uchar: true).Copy(interpretation: Enums.Interpretation.Srgb);
    }

    /// <summary>A 1-pixel-thick averaging line (scaled to keep unit-variance noise at unit variance): fibres.</summary>
    private static Image LineMask(int length, bool horizontal)
    {
        double v = 1.0 / Math.Sqrt(length);
        var m = horizontal ? new double[1, length] : new double[length, 1];
        for (int i = 0; i < length; i++)
        {
            if (horizontal) m[0, i] = v;
            else m[i, 0] = v;
        }
        return Image.NewFromArray(m);
    }
}

/// <summary>A generated phantom: the lazy label and RGB images (owned with every image they are made of; disposed with the phantom).</summary>
public sealed class Phantom : IDisposable
{
    private readonly VipsChain _images;

    internal Phantom(Image labels, Image rgb, IReadOnlyList<double> plannedFractions, VipsChain images)
    {
        Labels = labels;
        Rgb = rgb;
        PlannedClassFractions = plannedFractions;
        _images = images;
    }

    /// <summary>Single-band uchar class ids 0..7.</summary>
    public Image Labels { get; }

    /// <summary>3-band uchar sRGB, derived pixel by pixel from <see cref="Labels"/>.</summary>
    public Image Rgb { get; }

    /// <summary>Class areas (fractions of the slide, index = class id) estimated on the subsampled plan.</summary>
    public IReadOnlyList<double> PlannedClassFractions { get; }

    public void Dispose() => _images.Dispose();
}

/// <summary>Derives independent generator seeds from the user's seed (libvips' generators take an int).</summary>
internal static class Seeds
{
    public static int Of(int seed, int salt)
    {
        ulong z = unchecked((ulong)(uint)seed * 0x9E3779B97F4A7C15UL + (ulong)salt * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return unchecked((int)(z ^ (z >> 31)));
    }
}
