using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace WsiSegment.Model.Network;

/// <summary>
/// ESPNet (reference: <c>ESPNet</c> in the authors' test/Model.py, the variant their released weights need):
/// ESPNet-C as <c>encoder</c> plus the light-weight reduce-upsample-merge decoder of 2×2 stride-2 transposed
/// convolutions. The decoder reaches the encoder's layers through the <c>encoder</c> field (registered once).
/// The input height and width must be multiples of 8 (the engine pads); logits come out at the input size.
/// </summary>
public sealed class EspNet : SegmentationNetwork
{
    private readonly EspNetC encoder;
    private readonly ConvLayer level3_C;
    private readonly BatchNorm2d br;
    private readonly ConvBnPrelu conv;
    private readonly Sequential up_l3;
    private readonly Sequential combine_l2_l3;
    private readonly Sequential up_l2;
    private readonly ConvTranspose2d classifier;
    // Only set by FoldBatchNorm, after registration, so never part of the state_dict.
    private BnPrelu? _upL2Br;
    private bool _brFolded;

    public EspNet(int classes, int p = 2, int q = 8) : base("ESPNet", new NetworkSpec(ModelArchitecture.EspNet, classes, p, q))
    {
        encoder = new EspNetC(classes, p, q);
        level3_C = new ConvLayer(128 + 3, classes, 1, 1);
        br = nn.BatchNorm2d(classes, eps: 1e-3);
        // test/Model.py: the last CBR sees the up-sampled decoder features ++ the 16-channel level-1 output.
        conv = new ConvBnPrelu(16 + classes, classes, 3, 1);
        up_l3 = nn.Sequential(Up(classes));
        combine_l2_l3 = nn.Sequential(new BnPrelu(2 * classes), new EspBlock(2 * classes, classes, add: false));
        up_l2 = nn.Sequential(Up(classes), new BnPrelu(classes));
        classifier = Up(classes);
        RegisterComponents();
    }

    /// <summary>The ESPNet-C inside (its state_dict keys are this model's keys under <c>encoder.</c>).</summary>
    public EspNetC Encoder => encoder;

    private static ConvTranspose2d Up(long classes) =>
        nn.ConvTranspose2d(classes, classes, 2, stride: 2, padding: 0, output_padding: 0, bias: false);

    public override Tensor ForwardChannelsLast(Tensor input)
    {
        using var scope = NewDisposeScope();
        var f = encoder.Encode(ChannelsLast.Of(input));
        var encoderLogits = encoder.Classifier.call(f.Output2Cat);
        var output2C = up_l3.call(_brFolded ? encoderLogits : BatchNormForward.Apply(br, encoderLogits));
        var output1C = level3_C.call(f.Output1Cat);
        var combL2L3 = up_l2.call(combine_l2_l3.call(cat([output1C, output2C], 1)));
        var concatFeatures = conv.call(cat([combL2L3, f.Output0], 1));
        return scope.MoveToOuter(classifier.call(concatFeatures));
    }

    /// <summary>
    /// Folds every BatchNorm that directly follows a convolution into it (eval only, irreversible): level 1, the
    /// encoder classifier + <c>br</c>, the transposed conv + BN of <c>up_l2</c>, and the last CBR.
    /// </summary>
    internal override void FoldBatchNorm()
    {
        encoder.FoldBatchNorm();
        conv.FoldBatchNorm();
        if (!_brFolded)
        {
            BatchNormFolding.FoldInto(encoder.Classifier.Conv, br, transposed: false);
            _brFolded = true;
        }
        if (_upL2Br is null)
        {
            _upL2Br = (BnPrelu)up_l2.children().ElementAt(1);
            BatchNormFolding.FoldInto((ConvTranspose2d)up_l2.children().ElementAt(0), _upL2Br.Bn, transposed: true);
            _upL2Br.MarkBatchNormFolded();
        }
    }
}
