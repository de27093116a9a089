using WsiSegment.Model.Cards;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using WsiSegment.Tests.Support;
using static TorchSharp.torch;

namespace WsiSegment.Tests.Model.Network;

/// <summary>ESPNet with 2–4 classes: the decoder's last ESP block gets one branch per class channel.</summary>
public class SmallClassCountTests
{
    public SmallClassCountTests() => TorchRuntime.Initialise();

    [Theory]
    [InlineData(2, new[] { "d1", "d2" })]
    [InlineData(3, new[] { "d1", "d2", "d4" })]
    [InlineData(4, new[] { "d1", "d2", "d4", "d8" })]
    [InlineData(5, new[] { "d1", "d2", "d4", "d8", "d16" })]
    public void The_decoders_last_esp_block_has_one_branch_per_class_below_five(int classes, string[] branches)
    {
        using var net = new EspNet(classes, p: 1, q: 1);
        var keys = net.state_dict().Keys.Where(k => k.StartsWith("combine_l2_l3.1.d", StringComparison.Ordinal))
            .Select(k => k.Split('.')[2]).Distinct().Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(branches.Order(StringComparer.Ordinal).ToArray(), keys);
        // Each branch of a small block carries one channel; together they make the block's `classes` channels.
        foreach (var b in branches)
            Assert.Equal(classes < 5 ? 1 : classes / 5 + (b == "d1" ? classes % 5 : 0), net.state_dict()[$"combine_l2_l3.1.{b}.conv.weight"].shape[0]);
        Assert.Equal(classes < 5 ? classes : 5, NetworkFactory.DecoderBranches(ModelArchitecture.EspNet, classes));
        // Every encoder block keeps the paper's five branches.
        Assert.Contains("encoder.level3.0.d16.conv.weight", net.state_dict().Keys);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void A_small_class_model_predicts_its_classes_and_round_trips_through_safetensors(int classes)
    {
        using var dir = new TempDir("small-classes");
        using var net = new EspNet(classes, p: 1, q: 1);
        net.eval();
        var card = ModelCard.Default(ModelArchitecture.EspNet, classes, 1, 1);
        var saved = Checkpoint.Save(dir.File("m.safetensors"), net, card);
        Assert.Equal(classes, saved.DecoderEspBranches);
        using var loaded = Checkpoint.Load(dir.File("m.safetensors"));
        Assert.Equal(classes, loaded.Card.DecoderEspBranches);
        Assert.Equal(classes, loaded.Card.ClassCount);

        using var _ = inference_mode();
        using var x = randn(1, 3, 40, 48);
        using var a = net.call(x);
        using var b = loaded.Network.call(x);
        Assert.Equal(new long[] { 1, classes, 40, 48 }, a.shape);
        Assert.True(allclose(a, b, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void A_card_whose_branch_count_does_not_fit_the_class_count_is_refused()
    {
        var card = ModelCard.Default(ModelArchitecture.EspNet, 3) with { DecoderEspBranches = 5 };
        var e = Assert.Throws<ModelCardException>(() => card.Validate("x.safetensors"));
        Assert.Contains("decoder_esp_branches 5", e.Message);
    }
}
