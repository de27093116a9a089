using WsiSegment.Model.Cards;
using WsiSegment.Model.Runtime;
using static TorchSharp.torch;

namespace WsiSegment.Model.Stain;

/// <summary>
/// Applies a card's <see cref="StainNormalisation"/> to a batch of patches: float N×H×W×3 RGB in 0..255 in, the same
/// out, on the batch's device. Statistics are estimated per patch from a strided pixel subsample (every
/// <see cref="SampleStride"/>-th pixel, enough for percentiles and a 3×3 covariance); the transform itself is a few
/// tensor ops over every pixel. A patch with almost no tissue (mostly white) is left as it is. Also fits the
/// normalisation on a reference image.
/// </summary>
public sealed class StainTransform
{
    private const int SampleStride = 7;
    private const double OdThreshold = 0.15;  // Macenko's β: optical density below this is background or glass
    private const int MinTissuePixels = 64;

    private readonly StainNormalisation _card;

    public StainTransform(StainNormalisation card)
    {
        card.Validate("stain normalisation");
        _card = card;
    }

    /// <summary>The normalised batch (a new tensor in the caller's dispose scope).</summary>
    public Tensor Apply(Tensor rgb)
    {
        if (rgb.dim() != 4 || rgb.shape[3] != 3) throw new ArgumentException($"expected N×H×W×3, got [{string.Join(", ", rgb.shape)}]");
        long n = rgb.shape[0];
        var outputs = new Tensor[n];
        for (long i = 0; i < n; i++)
        {
            var patch = rgb[i].reshape(-1, 3).to(ScalarType.Float32);
            var normalised = _card.IsMacenko ? Macenko(patch) : Reinhard(patch);
            outputs[i] = (normalised ?? patch).reshape(rgb.shape[1], rgb.shape[2], 3);
        }
        return stack(outputs).to(rgb.dtype);
    }

    /// <summary>One decoded RGB patch (H×W×3 bytes) normalised, as bytes again: the training path.</summary>
    public byte[] ApplyToBytes(byte[] rgb, int width, int height)
    {
        using var scope = NewDisposeScope();
        var x = tensor(rgb, [1, height, width, 3]).to(ScalarType.Float32);
        var y = Apply(x).round().clamp(0, 255).to(ScalarType.Byte).contiguous();
        return y.data<byte>().ToArray();
    }

    /// <summary>Fits the normalisation on one reference image (H×W×3 RGB bytes).</summary>
    public static StainNormalisation Fit(string method, byte[] rgb, int width, int height, string? referenceName)
    {
        using var scope = NewDisposeScope();
        var pixels = tensor(rgb, [(long)width * height, 3]).to(ScalarType.Float32);
        switch (method)
        {
            case StainNormalisation.Reinhard:
            {
                var lab = Lab.FromRgb(pixels);
                var tissue = ReinhardSample(lab, pixels);
                if (tissue is null) throw new ArgumentException($"{referenceName}: the stain reference has almost no tissue (it is nearly white)");
                return new StainNormalisation
                {
                    Method = method, Reference = referenceName,
                    LabMean = tissue.mean([0]).data<float>().ToArray().Select(v => (double)v).ToArray(),
                    LabStd = tissue.std([0]).clamp_min(1e-3).data<float>().ToArray().Select(v => (double)v).ToArray(),
                };
            }
            case StainNormalisation.Macenko:
            {
                var od = OpticalDensity(pixels);
                var (he, maxC) = EstimateStains(od) ?? throw new ArgumentException($"{referenceName}: the stain reference has almost no tissue (it is nearly white)");
                return new StainNormalisation
                {
                    Method = method, Reference = referenceName,
                    StainMatrix = he.t().contiguous().data<float>().ToArray().Select(v => (double)v).ToArray(),
                    MaxConcentrations = maxC.data<float>().ToArray().Select(v => (double)v).ToArray(),
                };
            }
            default:
                throw new ArgumentException($"stain normalisation '{method}': use macenko or reinhard");
        }
    }

    private Tensor? Reinhard(Tensor pixels)
    {
        var lab = Lab.FromRgb(pixels);
        var tissue = ReinhardSample(lab, pixels);
        if (tissue is null) return null;
        var mean = tissue.mean([0]);
        var std = tissue.std([0]).clamp_min(1e-3);
        var targetMean = tensor(_card.LabMean!.Select(v => (float)v).ToArray()).to(pixels.device);
        var targetStd = tensor(_card.LabStd!.Select(v => (float)v).ToArray()).to(pixels.device);
        var mapped = lab.sub(mean).div(std).mul(targetStd).add(targetMean);
        return Lab.ToRgb(mapped).clamp(0, 255);
    }

    private Tensor? Macenko(Tensor pixels)
    {
        var od = OpticalDensity(pixels);
        if (EstimateStains(od) is not var (he, maxC)) return null;
        // Concentrations of every pixel in the patch's own stains, scaled to the reference's 99th percentiles.
        var concentrations = linalg.pinv(he).matmul(od.t());               // 2×P
        var targetMax = tensor(_card.MaxConcentrations!.Select(v => (float)v).ToArray()).to(pixels.device);
        concentrations = concentrations.mul(targetMax.div(maxC.clamp_min(1e-6)).unsqueeze(1));
        var targetHe = tensor(_card.StainMatrix!.Select(v => (float)v).ToArray(), [2, 3]).to(pixels.device).t(); // 3×2
        var reconstructed = targetHe.matmul(concentrations).t().neg().exp().mul(256).sub(1); // P×3
        return reconstructed.clamp(0, 255);
    }

    private static Tensor OpticalDensity(Tensor pixels) => pixels.add(1).div(256).log().neg();

    /// <summary>Tissue: some optical density in every channel (not glass, not white background).</summary>
    private static Tensor TissueMask(Tensor pixels) => OpticalDensity(pixels).gt(OdThreshold).all(1);

    /// <summary>Reinhard's statistics come from every pixel (as Reinhard et al. and staintools do: a tissue mask would
    /// itself move with the colours being normalised); a patch with almost no tissue has none.</summary>
    private static Tensor? ReinhardSample(Tensor lab, Tensor pixels) =>
        Sample(pixels, TissueMask(pixels)) is null ? null : lab[TensorIndex.Slice(null, null, SampleStride)];

    /// <summary>Rows of <paramref name="values"/> where <paramref name="mask"/> holds, from a strided subsample; null when too few.</summary>
    private static Tensor? Sample(Tensor values, Tensor mask)
    {
        var rows = values[TensorIndex.Slice(null, null, SampleStride)];
        var m = mask[TensorIndex.Slice(null, null, SampleStride)];
        var picked = rows[m];
        return picked.shape[0] < MinTissuePixels ? null : picked;
    }

    /// <summary>Macenko's estimate: the stain plane from the OD covariance, the extreme angles (1st/99th percentile) as
    /// H and E, and the 99th percentile concentration of each. Null when the patch has too little tissue.</summary>
    private static (Tensor He, Tensor MaxC)? EstimateStains(Tensor od)
    {
        var tissue = Sample(od, od.gt(OdThreshold).all(1));
        if (tissue is null) return null;
        var centred = tissue.sub(tissue.mean([0]));
        var cov = centred.t().matmul(centred).div(tissue.shape[0] - 1);
        var (_, vectors) = linalg.eigh(cov);                                 // ascending eigenvalues
        var plane = vectors[TensorIndex.Colon, TensorIndex.Slice(1, 3)];     // 3×2, the two largest
        // Eigenvectors have no sign: point each into positive OD.
        plane = plane.mul(plane[0].sign().add(plane[0].eq(0).to(ScalarType.Float32)));
        var projected = tissue.matmul(plane);
        var phi = atan2(projected[TensorIndex.Colon, 1], projected[TensorIndex.Colon, 0]);
        using var qs = tensor(new float[] { 0.01f, 0.99f }).to(od.device);
        var angles = phi.quantile(qs);
        var v1 = plane.matmul(stack([angles[0].cos(), angles[0].sin()]));
        var v2 = plane.matmul(stack([angles[1].cos(), angles[1].sin()]));
        // Haematoxylin absorbs more red than eosin does: it is the vector with the larger first component.
        bool firstIsH = v1[0].item<float>() > v2[0].item<float>();
        var he = stack(firstIsH ? [v1, v2] : [v2, v1], 1);                    // 3×2
        he = he.div(he.norm(0, keepdim: true).clamp_min(1e-6));
        var concentrations = linalg.pinv(he).matmul(tissue.t());            // 2×n
        var maxC = concentrations.quantile(qs[1], 1);
        return (he, maxC);
    }
}
