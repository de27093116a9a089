using System.Text.Json;
using TorchSharp;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Network;
using WsiSegment.Model.Weights;
using static TorchSharp.torch;

namespace WsiSegment.Model.Training;

/// <summary>Where a stage stands, saved beside its last checkpoint so that --resume can continue it.</summary>
public sealed record TrainingState
{
    public required string Stage { get; init; }
    /// <summary>Epochs completed (the next epoch to run, 0-based).</summary>
    public required int Epoch { get; init; }
    [System.Text.Json.Serialization.JsonPropertyName("best_miou")]
    public double BestMeanIoU { get; init; } = -1;
    public int BestEpoch { get; init; }
    public int Seed { get; init; }
    public int Classes { get; init; }
    public int P { get; init; }
    public int Q { get; init; }
}

/// <summary>
/// A stage's files in its output folder: <c>last.safetensors</c> / <c>best.safetensors</c> (weights + model card,
/// via <see cref="Checkpoint"/>), <c>last.optim.safetensors</c> (the Adam state: moments and step counts, see <see cref="AdamOptimizer"/>) and
/// <c>last.state.json</c> (<see cref="TrainingState"/>). Files are written beside and renamed into place, so an
/// interrupted save leaves the previous epoch's set intact.
/// </summary>
public sealed class TrainingCheckpoint(string directory)
{
    public string Directory { get; } = directory;
    public string Last => Path.Combine(Directory, "last.safetensors");
    public string Best => Path.Combine(Directory, "best.safetensors");
    public string Optimizer => Path.Combine(Directory, "last.optim.safetensors");
    public string State => Path.Combine(Directory, "last.state.json");

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public bool CanResume => File.Exists(Last) && File.Exists(Optimizer) && File.Exists(State);

    /// <summary>Saves the last checkpoint set, and copies it to best when <paramref name="isBest"/>.</summary>
    public ModelCard Save(SegmentationNetwork network, ModelCard card, AdamOptimizer optimizer, TrainingState state, bool isBest)
    {
        System.IO.Directory.CreateDirectory(Directory);
        ModelCard saved = Checkpoint.Save(Last + ".tmp", network, card);
        optimizer.Save(Optimizer + ".tmp");
        File.WriteAllText(State + ".tmp", JsonSerializer.Serialize(state, Json));
        // Weights last: a state file never points past the weights beside it.
        File.Move(Optimizer + ".tmp", Optimizer, overwrite: true);
        File.Move(State + ".tmp", State, overwrite: true);
        File.Move(Last + ".tmp", Last, overwrite: true);
        if (isBest) File.Copy(Last, Best, overwrite: true);
        return saved;
    }

    public TrainingState ReadState()
    {
        try
        {
            return JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(State), Json)
                   ?? throw new InvalidDataException($"{State}: empty training state");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{State}: not a training state ({e.Message})", e);
        }
    }

    /// <summary>Loads the last weights into <paramref name="network"/> and the Adam state into <paramref name="optimizer"/>.</summary>
    public void Restore(nn.Module<Tensor, Tensor> network, AdamOptimizer optimizer)
    {
        var content = SafetensorsFile.Read(Last);
        WeightLoader.Load(network, content.ByName, Last, hint: "resume needs the same --p, --q and classes as the run that wrote it");
        try
        {
            optimizer.Load(Optimizer);
        }
        catch (SafetensorsFormatException e)
        {
            throw new InvalidDataException($"{Optimizer}: not a readable optimizer state ({e.Reason})", e);
        }
    }
}
