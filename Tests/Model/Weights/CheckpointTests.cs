using WsiSegment.Core.Classes;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using WsiSegment.Tests.Model.Inference;
using WsiSegment.Tests.Support;
using static TorchSharp.torch;

namespace WsiSegment.Tests.Model.Weights;

public class CheckpointTests
{
    public CheckpointTests() => TorchRuntime.Initialise();

    [Fact]
    public void Save_and_load_keep_weights_card_and_hash()
    {
        using var dir = new TempDir("ckpt");
        using var model = InferenceEngineTests.RandomModel();
        var card = model.Card with { TrainedMpp = 2.0, TrainedPatchSize = 384, TrainingData = "synthetic" };
        var saved = Checkpoint.Save(dir.File("m.safetensors"), model.Network, card);
        Assert.StartsWith("sha256:", saved.ContentHash);
        using var loaded = Checkpoint.Load(dir.File("m.safetensors"));
        Assert.Equal(saved.ContentHash, loaded.Card.ContentHash);
        Assert.Equal(2.0, loaded.Card.TrainedMpp);
        Assert.Equal("malignant epithelium", loaded.Card.Classes[2].Name);
        Assert.Equal(ModelArchitecture.EspNet, loaded.Architecture);
        var a = model.Network.state_dict();
        foreach (var (k, v) in loaded.Network.state_dict())
            Assert.True(v.equal(a[k]).all().item<bool>(), k);
    }

    [Fact]
    public void Wrong_class_count_lists_every_mismatch_and_an_espnetc_fills_the_espnet_encoder()
    {
        using var dir = new TempDir("ckpt");
        using var c8 = InferenceEngineTests.RandomModel(ModelArchitecture.EspNetC);
        SafetensorsFile.Write(dir.File("c8.safetensors"), WeightLoader.Export(c8.Network));

        var e = Assert.Throws<WeightMismatchException>(() =>
            Checkpoint.Import(dir.File("c8.safetensors"), ModelArchitecture.EspNetC, 20, 2, 8));
        Assert.StartsWith(dir.File("c8.safetensors"), e.Message);
        Assert.Contains("classifier.conv.weight: file [8, 256, 1, 1] vs network [20, 256, 1, 1]", e.Message);
        var q3 = Assert.Throws<WeightMismatchException>(() =>
            Checkpoint.Import(dir.File("c8.safetensors"), ModelArchitecture.EspNetC, 8, 2, 3));
        Assert.Contains("level3.7.c1.conv.weight", q3.Unexpected);

        using var espnet = Checkpoint.Import(dir.File("c8.safetensors"), ModelArchitecture.EspNet, 8, 2, 8);
        var encoder = c8.Network.state_dict();
        foreach (var (k, v) in espnet.Network.state_dict().Where(kv => kv.Key.StartsWith("encoder.")))
            Assert.True(v.equal(encoder[k["encoder.".Length..]]).all().item<bool>(), k);
    }

    [Fact]
    public void Plain_weights_truncated_files_and_altered_tensors_are_refused_clearly()
    {
        using var dir = new TempDir("ckpt");
        using var model = InferenceEngineTests.RandomModel(ModelArchitecture.EspNetC);
        SafetensorsFile.Write(dir.File("plain.safetensors"), WeightLoader.Export(model.Network));
        var plain = Assert.Throws<ModelCardException>(() => Checkpoint.Load(dir.File("plain.safetensors")));
        Assert.Contains("model import", plain.Message);

        Checkpoint.Save(dir.File("m.safetensors"), model.Network, model.Card);
        var bytes = File.ReadAllBytes(dir.File("m.safetensors"));
        File.WriteAllBytes(dir.File("cut.safetensors"), bytes[..(bytes.Length / 2)]);
        var cut = Assert.Throws<SafetensorsFormatException>(() => Checkpoint.Load(dir.File("cut.safetensors")));
        Assert.Contains("truncated", cut.Message);

        bytes[^5] ^= 0x40; // flip a bit in the last tensor
        File.WriteAllBytes(dir.File("altered.safetensors"), bytes);
        var altered = Assert.Throws<ModelCardException>(() => Checkpoint.Load(dir.File("altered.safetensors")));
        Assert.Contains("content hash mismatch", altered.Message);
    }

    [Fact]
    public void Card_json_round_trips_and_bad_cards_name_the_problem()
    {
        var card = ModelCard.Default(ModelArchitecture.EspNet, 8) with { Normalisation = InputNormalisation.AuthorsCityscapes };
        var back = ModelCard.FromJson(card.ToJson(), "card.json");
        Assert.Equal(card.Classes, back.Classes);
        Assert.Equal(ChannelOrder.BGR, back.Normalisation.ChannelOrder);
        Assert.Contains("\"channel_order\": \"BGR\"", card.ToJson());
        var bad = card with { Classes = [.. card.Classes.Take(7), new ClassInfo("necrosis", "red")] };
        var e = Assert.Throws<ModelCardException>(() => ModelCard.FromJson(bad.ToJson(), "card.json"));
        Assert.Contains("card.json", e.Message);
        Assert.Contains("#RRGGBB", e.Message);
        Assert.Equal(20, ModelCard.Default(ModelArchitecture.EspNet, 20).Classes.Select(c => c.Colour).Distinct().Count());
    }
}
