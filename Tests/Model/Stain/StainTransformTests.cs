using NetVips;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Inference;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Stain;
using WsiSegment.Model;
using WsiSegment.Tests.Support;
using static TorchSharp.torch;

namespace WsiSegment.Tests.Model.Stain;

/// <summary>Stain normalisation on the two real H&amp;E patches (pancreas as reference, thyroid as the other lab's stain).</summary>
public class StainTransformTests
{
    public StainTransformTests() => TorchRuntime.Initialise();

    private static byte[] Rgb(string name)
    {
        using var image = Image.NewFromFile(CryoNuSeg.Image(name));
        return image.WriteToMemory<byte>();
    }

    [SharedTheory]
    [InlineData(StainNormalisation.Reinhard)]
    [InlineData(StainNormalisation.Macenko)]
    public void Normalising_an_image_brings_its_stain_statistics_to_the_reference(string method)
    {
        const int S = CryoNuSeg.Size;
        var reference = Rgb(CryoNuSeg.Pancreas);
        var other = Rgb(CryoNuSeg.Thyroid);
        var fitted = StainTransform.Fit(method, reference, S, S, "pancreas");
        fitted.Validate("test");
        var transform = new StainTransform(fitted);
        var normalised = transform.ApplyToBytes(other, S, S);
        var refit = StainTransform.Fit(method, normalised, S, S, "normalised");
        var before = StainTransform.Fit(method, other, S, S, "thyroid");
        double[] Stats(StainNormalisation s) => method == StainNormalisation.Reinhard ? [.. s.LabMean!, .. s.LabStd!] : [.. s.StainMatrix!, .. s.MaxConcentrations!];
        double Distance(StainNormalisation a, StainNormalisation b) => Stats(a).Zip(Stats(b)).Sum(p => Math.Abs(p.First - p.Second));
        // The thyroid's own statistics are far from the pancreas's; after normalisation they are close.
        double was = Distance(before, fitted), now = Distance(refit, fitted);
        Assert.True(now < was * 0.35, $"{method}: distance to the reference {was:0.000} before, {now:0.000} after");
        // The reference normalised to itself hardly changes.
        var self = transform.ApplyToBytes(reference, S, S);
        double meanAbs = self.Zip(reference).Average(p => Math.Abs(p.First - p.Second));
        Assert.True(meanAbs < 12, $"{method}: the reference moved by {meanAbs:0.0} grey levels on average");
    }

    [SharedFact]
    public void The_engine_applies_the_cards_stain_normalisation_to_every_patch()
    {
        const int S = 64;
        var rgb = Rgb(CryoNuSeg.Thyroid).AsSpan(0, S * CryoNuSeg.Size * 3).ToArray();
        // Two 64² patches cut from the thyroid's top rows.
        var batch = new byte[2 * S * S * 3];
        for (int n = 0; n < 2; n++)
            for (int y = 0; y < S; y++)
                Array.Copy(rgb, (y * CryoNuSeg.Size + n * S) * 3, batch, (n * S * S + y * S) * 3, S * 3);
        var fitted = StainTransform.Fit(StainNormalisation.Macenko, Rgb(CryoNuSeg.Pancreas), CryoNuSeg.Size, CryoNuSeg.Size, "pancreas");
        var net = new EspNet(2, p: 1, q: 1);
        net.eval();
        var card = ModelCard.Default(ModelArchitecture.EspNet, 2, 1, 1);
        // Both views share the one network; the stain one disposes it.
        var plain = new LoadedModel(net, card, "plain");
        using var withStain = new LoadedModel(net, card with { StainNormalisation = fitted }, "stain");
        var options = new InferenceOptions { Device = "cpu" };
        using var a = InferenceEngine.Create(withStain, options);
        using var b = InferenceEngine.Create(plain, options);
        var stain = new StainTransform(fitted);
        var pre = new byte[batch.Length];
        for (int n = 0; n < 2; n++)
            stain.ApplyToBytes(batch.AsSpan(n * S * S * 3, S * S * 3).ToArray(), S, S).CopyTo(pre, n * S * S * 3);
        var pa = new float[2 * 2 * S * S];
        var pb = new float[pa.Length];
        var pc = new float[pa.Length];
        a.PredictProbabilities(batch, 2, S, S, pa);
        b.PredictProbabilities(pre, 2, S, S, pb);
        b.PredictProbabilities(batch, 2, S, S, pc);
        // Same as normalising the bytes first (up to their rounding to bytes), and not the same as no normalisation.
        Assert.True(pa.Zip(pb).Max(p => Math.Abs(p.First - p.Second)) < 0.05);
        Assert.True(pa.Zip(pc).Max(p => Math.Abs(p.First - p.Second)) > 1e-4);
    }
}
