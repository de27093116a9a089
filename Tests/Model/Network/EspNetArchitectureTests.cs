using TorchSharp;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Tests.Support;
using static TorchSharp.torch;

namespace WsiSegment.Tests.Model.Network;

public class EspNetArchitectureTests
{
    public EspNetArchitectureTests() => TorchRuntime.Initialise();

    [Theory]
    [InlineData(ModelArchitecture.EspNet, 20, 2, 8, 364_569)]
    [InlineData(ModelArchitecture.EspNetC, 20, 2, 8, 349_449)]
    [InlineData(ModelArchitecture.EspNet, 8, 2, 8, 350_145)]
    [InlineData(ModelArchitecture.EspNetC, 8, 2, 8, 346_377)]
    [InlineData(ModelArchitecture.EspNet, 20, 2, 3, 202_649)]
    [InlineData(ModelArchitecture.EspNet, 20, 2, 5, 267_417)]
    public void Trainable_parameter_count_matches_the_reference(ModelArchitecture arch, int classes, int p, int q, long expected)
    {
        using var net = NetworkFactory.Create(arch, classes, p, q);
        Assert.Equal(expected, NetworkFactory.CountParameters(net));
    }

    [SharedTheory]
    [InlineData(ModelArchitecture.EspNet, "espnet_p2q8_c8_state_dict_keys.txt")]
    [InlineData(ModelArchitecture.EspNetC, "espnetc_p2q8_c8_state_dict_keys.txt")]
    public void State_dict_keys_dtypes_and_shapes_equal_the_pytorch_reference(ModelArchitecture arch, string listFile)
    {
        var expected = File.ReadAllLines(Repo.SharedFile(listFile))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split(' '))
            .Select(c => $"{c[0]} {c[1]} {c[2]}")
            .Order(StringComparer.Ordinal).ToList();
        using var net = NetworkFactory.Create(arch, 8, 2, 8);
        var actual = net.state_dict()
            .Select(kv => $"{kv.Key} {DtypeName(kv.Value.dtype)} {ShapeText(kv.Value.shape)}")
            .Order(StringComparer.Ordinal).ToList();
        // TorchSharp lists parameters before buffers, PyTorch module by module: compare as sets.
        Assert.Equal(expected, actual);
    }

    [Theory]
    [InlineData(ModelArchitecture.EspNet, 64, 96, 64, 96)]
    [InlineData(ModelArchitecture.EspNetC, 64, 96, 8, 12)]
    [InlineData(ModelArchitecture.EspNetC, 17, 9, 3, 2)]
    public void Forward_gives_logits_of_the_expected_size(ModelArchitecture arch, int h, int w, int oh, int ow)
    {
        using var net = NetworkFactory.Create(arch, 8);
        net.eval();
        using var _ = inference_mode();
        using var x = randn(2, 3, h, w);
        using var y = net.call(x);
        Assert.Equal(new long[] { 2, 8, oh, ow }, y.shape);
        Assert.True(y.isfinite().all().item<bool>());
    }

    [Theory]
    [InlineData(33, 47)]
    [InlineData(64, 64)]
    public void A_projection_continued_from_an_already_pooled_image_equals_pooling_from_the_start(int h, int w)
    {
        using var once = new InputProjection(1);
        using var twice = new InputProjection(2);
        using var _ = inference_mode();
        using var x = ChannelsLast.Of(randn(1, 3, h, w));
        using var pooled = once.call(x);
        using var direct = twice.call(x);
        using var continued = twice.Continue(pooled, alreadyPooled: 1);
        Assert.Equal(direct.shape, continued.shape);
        Assert.True(direct.eq(continued).all().item<bool>());
        using var none = twice.Continue(direct, alreadyPooled: 2);
        Assert.True(none.eq(direct).all().item<bool>());
    }

    [Fact]
    public void Too_few_classes_or_bad_multipliers_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new EspNet(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EspNetC(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new EspNetC(8, p: 0));
    }

    internal static string DtypeName(ScalarType t) => t switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Int64 => "int64",
        _ => t.ToString(),
    };

    internal static string ShapeText(long[] shape) => shape.Length == 0 ? "scalar" : string.Join('x', shape);
}
