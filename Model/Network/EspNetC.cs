using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace WsiSegment.Model.Network;

/// <summary>
/// ESPNet-C (reference: <c>ESPNet_Encoder</c> in the authors' test/Model.py): a strided 3×3 CBR, input
/// reinforcement at 1/2 and 1/4, a strided ESP then p ESP blocks at 1/4, a strided ESP then q ESP blocks at 1/8,
/// and a 1×1 classifier. Logits come out at 1/8 of the input size (⌈H/8⌉×⌈W/8⌉).
/// </summary>
public sealed class EspNetC : SegmentationNetwork
{
    private readonly ConvBnPrelu level1;
    private readonly InputProjection sample1;
    private readonly InputProjection sample2;
    private readonly BnPrelu b1;
    private readonly EspDownsampler level2_0;
    private readonly ModuleList<EspBlock> level2;
    private readonly BnPrelu b2;
    private readonly EspDownsampler level3_0;
    private readonly ModuleList<EspBlock> level3;
    private readonly BnPrelu b3;
    private readonly ConvLayer classifier;

    public EspNetC(int classes, int p = 2, int q = 8) : base("ESPNet_Encoder", new NetworkSpec(ModelArchitecture.EspNetC, classes, p, q))
    {
        level1 = new ConvBnPrelu(3, 16, 3, 2);
        sample1 = new InputProjection(1);
        sample2 = new InputProjection(2);
        b1 = new BnPrelu(16 + 3);
        level2_0 = new EspDownsampler(16 + 3, 64);
        level2 = new ModuleList<EspBlock>();
        for (int i = 0; i < p; i++) level2.Add(new EspBlock(64, 64));
        b2 = new BnPrelu(128 + 3);
        level3_0 = new EspDownsampler(128 + 3, 128);
        level3 = new ModuleList<EspBlock>();
        for (int i = 0; i < q; i++) level3.Add(new EspBlock(128, 128));
        b3 = new BnPrelu(256);
        classifier = new ConvLayer(256, classes, 1, 1);
        RegisterComponents();
    }

    /// <summary>The encoder's 1×1 classifier, which ESPNet's decoder reuses on the level-3 features.</summary>
    internal ConvLayer Classifier => classifier;

    /// <summary>Level-1 output (16 ch, 1/2), the level-2 concatenation (131 ch, 1/4) and level-3 one (256 ch, 1/8).</summary>
    internal readonly record struct Features(Tensor Output0, Tensor Output1Cat, Tensor Output2Cat);

    /// <summary>Runs the encoder up to (not including) the classifier. Tensors land in the caller's dispose scope.</summary>
    internal Features Encode(Tensor input)
    {
        var output0 = level1.call(input);
        var inp1 = sample1.call(input);
        var inp2 = sample2.Continue(inp1, alreadyPooled: 1); // = sample2.call(input), one full-size pool fewer

        var output0Cat = b1.call(cat([output0, inp1], 1));
        var output1_0 = level2_0.call(output0Cat);
        var output1 = output1_0;
        foreach (var layer in level2) output1 = layer.call(output1);
        var output1Cat = b2.call(cat([output1, output1_0, inp2], 1));

        var output2_0 = level3_0.call(output1Cat);
        var output2 = output2_0;
        foreach (var layer in level3) output2 = layer.call(output2);
        var output2Cat = b3.call(cat([output2_0, output2], 1));
        return new Features(output0, output1Cat, output2Cat);
    }

    public override Tensor ForwardChannelsLast(Tensor input)
    {
        using var scope = NewDisposeScope();
        var features = Encode(ChannelsLast.Of(input));
        return scope.MoveToOuter(classifier.call(features.Output2Cat));
    }

    /// <summary>Folds every BatchNorm that directly follows a convolution: only level 1 (the rest follow a concatenation).</summary>
    internal override void FoldBatchNorm() => level1.FoldBatchNorm();
}
