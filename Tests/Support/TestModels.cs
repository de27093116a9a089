using TorchSharp;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;

namespace WsiSegment.Tests.Support;

/// <summary>Small real ESPNet checkpoints for pipeline tests (seeded random weights; the demo model where training matters).</summary>
public static class TestModels
{
    private static readonly object Gate = new();
    private static string? _random;

    /// <summary>A seeded, randomly initialised ESPNet p=2 q=3 with the 8 default classes, trained-at MPP 2.0 (one per test run).</summary>
    public static string RandomEspNet()
    {
        lock (Gate)
        {
            if (_random is not null && File.Exists(_random)) return _random;
            TorchRuntime.Initialise();
            string path = Path.Combine(Path.GetTempPath(), $"wsiseg-test-model-{Environment.ProcessId}.safetensors");
            torch.manual_seed(1234);
            using var net = NetworkFactory.Create(ModelArchitecture.EspNet, 8, p: 2, q: 3);
            var card = ModelCard.Default(ModelArchitecture.EspNet, 8, p: 2, q: 3) with
            {
                TrainedMpp = 2.0,
                TrainedPatchSize = 256,
                Description = "random weights for tests",
            };
            Checkpoint.Save(path, net, card);
            return _random = path;
        }
    }

    /// <summary>The bundled demo model (trained on phantoms) as committed in models/.</summary>
    public static string Demo => Path.Combine(Repo.Root, "models", "demo-espnet.safetensors");
}
