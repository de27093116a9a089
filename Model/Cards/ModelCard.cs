using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using WsiSegment.Core.Classes;
using WsiSegment.Model.Network;

namespace WsiSegment.Model.Cards;

/// <summary>
/// What a checkpoint is and how to feed it: architecture, depth multipliers, classes (names, colours), input
/// normalisation, the resolution and patch size it was trained at, a training-data summary and a content hash.
/// Stored as JSON in the checkpoint's safetensors <c>__metadata__</c> under "model_card".
/// </summary>
public sealed record ModelCard
{
    /// <summary>"espnet" or "espnet-c".</summary>
    public string Architecture { get; init; } = ModelArchitecture.EspNet.Name();
    public int P { get; init; } = 2;
    public int Q { get; init; } = 8;

    /// <summary>
    /// ESPNet only: branches of the decoder's last ESP block — 5 (the paper's, for 5 or more classes) or, below 5
    /// classes, one per class (n = 1 channel each, rates 1, 2, 4, 8 as far as they go). Filled in when a checkpoint is
    /// saved; null in older cards, which means 5.
    /// </summary>
    public int? DecoderEspBranches { get; init; }
    public ClassTable Classes { get; init; } = ClassTable.BreastTissue;
    public InputNormalisation Normalisation { get; init; } = new();

    /// <summary>Stain normalisation applied to every patch's bytes before <see cref="Normalisation"/> (null: none).</summary>
    public StainNormalisation? StainNormalisation { get; init; }
    /// <summary>Microns per pixel of the images the model was trained on (null: unknown).</summary>
    public double? TrainedMpp { get; init; }
    /// <summary>Square training patch size in pixels (null: unknown).</summary>
    public int? TrainedPatchSize { get; init; }
    public string? TrainingData { get; init; }
    public string? Description { get; init; }
    /// <summary>"sha256:…" over the weights (see <see cref="Weights.ContentHash"/>); filled in when a checkpoint is saved.</summary>
    public string? ContentHash { get; init; }

    [JsonIgnore] public ModelArchitecture Arch => ModelArchitectures.Parse(Architecture);
    [JsonIgnore] public int ClassCount => Classes.Count;

    /// <summary>A card for a fresh network: the breast-tissue classes when there are 8, else "class 0", "class 1", … with a palette.</summary>
    public static ModelCard Default(ModelArchitecture arch, int classes, int p = 2, int q = 8) => new()
    {
        Architecture = arch.Name(),
        P = p,
        Q = q,
        Classes = classes == ClassTable.BreastTissue.Count ? ClassTable.BreastTissue : GenericClasses(classes),
    };

    public static ClassTable GenericClasses(int n)
    {
        // Evenly spaced hues, alternating lightness, so neighbours differ.
        var list = new List<ClassInfo>(n);
        for (int i = 0; i < n; i++)
        {
            double h = i * 360.0 / n, l = i % 2 == 0 ? 0.45 : 0.65;
            list.Add(new ClassInfo($"class {i}", Hsl(h, 0.7, l)));
        }
        return new ClassTable(list);
    }

    /// <summary>Checks the card against itself and, optionally, against a network; throws naming <paramref name="source"/>.</summary>
    public ModelCard Validate(string source)
    {
        void Fail(string why) => throw new ModelCardException(source, why);
        try
        {
            _ = Arch;
        }
        catch (ArgumentException e)
        {
            Fail(e.Message);
        }
        if (P < 1 || Q < 1) Fail($"p and q must be at least 1 (p={P}, q={Q})");
        if (Classes is null || Classes.Count < 2 || Classes.Count > 255) Fail($"needs 2–255 classes, has {Classes?.Count ?? 0}");
        if (Classes!.Problem() is { } bad) Fail(bad);
        Normalisation.Validate(source);
        StainNormalisation?.Validate(source);
        if (DecoderEspBranches is { } k && (Arch != ModelArchitecture.EspNet || k != NetworkFactory.DecoderBranches(Arch, Classes.Count)))
            Fail($"decoder_esp_branches {k} does not fit {Architecture} with {Classes.Count} classes (expected {NetworkFactory.DecoderBranches(Arch, Classes.Count)?.ToString(CultureInfo.InvariantCulture) ?? "none"})");
        if (TrainedMpp is <= 0) Fail("trained_mpp must be positive");
        if (TrainedPatchSize is <= 0) Fail("trained_patch_size must be positive");
        return this;
    }

    /// <summary>Fails unless the card describes the given architecture and class count.</summary>
    public void EnsureMatches(ModelArchitecture arch, int classes, int p, int q, string source)
    {
        if (Arch != arch || ClassCount != classes || P != p || Q != q)
            throw new ModelCardException(source,
                $"the card describes {Architecture} p={P} q={Q} with {ClassCount} classes, the network is {arch.Name()} p={p} q={q} with {classes} classes");
    }

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        Converters = { new JsonStringEnumConverter() },
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static ModelCard FromJson(string json, string source)
    {
        ModelCard? card;
        try
        {
            card = JsonSerializer.Deserialize<ModelCard>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new ModelCardException(source, "the model card is not valid JSON for a card: " + e.Message, e);
        }
        return (card ?? throw new ModelCardException(source, "the model card is empty")).Validate(source);
    }

    public static ModelCard Load(string path) => FromJson(File.ReadAllText(path), path);

    private static string Hsl(double h, double s, double l)
    {
        double c = (1 - Math.Abs(2 * l - 1)) * s, x = c * (1 - Math.Abs(h / 60 % 2 - 1)), m = l - c / 2;
        var (r, g, b) = (int)(h / 60) switch
        {
            0 => (c, x, 0.0), 1 => (x, c, 0.0), 2 => (0.0, c, x), 3 => (0.0, x, c), 4 => (x, 0.0, c), _ => (c, 0.0, x),
        };
        static int B(double v) => (int)Math.Round(Math.Clamp(v, 0, 1) * 255);
        return string.Create(CultureInfo.InvariantCulture, $"#{B(r + m):X2}{B(g + m):X2}{B(b + m):X2}");
    }
}

public enum ChannelOrder { RGB, BGR }

/// <summary>
/// How 8-bit pixels become network input: reorder to <see cref="ChannelOrder"/>, then
/// x = (v − mean[c]) / std[c] × <see cref="Scale"/>, mean and std in 0–255 units listed in the network's channel order.
/// The authors' Cityscapes weights need BGR, their means/stds and Scale = 1/255 (they divide by 255 after normalising).
/// </summary>
public sealed record InputNormalisation
{
    public ChannelOrder ChannelOrder { get; init; } = ChannelOrder.RGB;
    public double[] Mean { get; init; } = [127.5, 127.5, 127.5];
    public double[] Std { get; init; } = [127.5, 127.5, 127.5];
    public double Scale { get; init; } = 1.0;

    /// <summary>The Cityscapes preprocessing of the authors' VisualizeResults.py.</summary>
    public static InputNormalisation AuthorsCityscapes => new()
    {
        ChannelOrder = ChannelOrder.BGR,
        Mean = [72.3923111, 82.90893555, 73.15840149],
        Std = [45.3192215, 46.15289307, 44.91483307],
        Scale = 1.0 / 255,
    };

    public void Validate(string source)
    {
        if (Mean is not { Length: 3 } || Std is not { Length: 3 })
            throw new ModelCardException(source, "normalisation needs three means and three stds");
        if (Std.Any(s => !(s > 0)) || Mean.Any(m => !double.IsFinite(m)) || !(Scale > 0) || !double.IsFinite(Scale))
            throw new ModelCardException(source, "normalisation stds and scale must be positive and finite");
    }

    /// <summary>For each network input channel c: (source RGB channel, multiplier a, offset b) with x = a·v + b.</summary>
    public (int Source, float A, float B)[] Affine()
    {
        var result = new (int, float, float)[3];
        for (int c = 0; c < 3; c++)
        {
            int src = ChannelOrder == ChannelOrder.RGB ? c : 2 - c;
            double a = Scale / Std[c];
            result[c] = (src, (float)a, (float)(-Mean[c] * a));
        }
        return result;
    }
}

/// <summary>A model card that is missing, malformed or does not fit its network; the message names the file.</summary>
public sealed class ModelCardException(string source, string reason, Exception? inner = null)
    : Exception($"{source}: {reason}", inner);
