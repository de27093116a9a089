using TorchSharp;
using TorchSharp.Modules;
using WsiSegment.Model.Runtime;
using WsiSegment.Model.Weights;
using static TorchSharp.torch;

namespace WsiSegment.Model.Training;

/// <summary>Adam's settings (PyTorch's defaults; weight decay is L2 added to the gradient, as in torch.optim.Adam).</summary>
public sealed record AdamOptions
{
    public double LearningRate { get; init; } = 1e-3;
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Eps { get; init; } = 1e-8;
    public double WeightDecay { get; init; }
}

/// <summary>
/// Adam (Kingma and Ba) with PyTorch's update rule, step for step the same as torch.optim.Adam without amsgrad.
/// Our own rather than TorchSharp's: TorchSharp 0.107's Adam passes every coefficient as a temporary Scalar that a
/// concurrent GC can free mid-call (see <see cref="HeldScalars"/>) — it failed a training step under load. Here
/// every coefficient is a Scalar held to the end of its scope. The state (moments and step counts per parameter
/// name) is saved as safetensors, so resuming needs the same network, and the file is readable anywhere.
/// </summary>
public sealed class AdamOptimizer : IDisposable
{
    public const string FormatName = "wsi-segment-adam";

    private readonly Slot[] _slots;
    private readonly Scalar _beta1, _oneMinusBeta1, _beta2, _oneMinusBeta2, _weightDecay, _eps;
    private readonly AdamOptions _options;
    private bool _disposed;

    public AdamOptimizer(IEnumerable<(string Name, Parameter Parameter)> parameters, AdamOptions options)
    {
        _options = options;
        LearningRate = options.LearningRate;
        _slots = parameters.Where(p => p.Parameter.requires_grad).Select(p => new Slot(p.Name, p.Parameter)).ToArray();
        if (_slots.Length == 0) throw new ArgumentException("Adam: no trainable parameters");
        _beta1 = options.Beta1.ToScalar();
        _oneMinusBeta1 = (1 - options.Beta1).ToScalar();
        _beta2 = options.Beta2.ToScalar();
        _oneMinusBeta2 = (1 - options.Beta2).ToScalar();
        _weightDecay = options.WeightDecay.ToScalar();
        _eps = options.Eps.ToScalar();
    }

    /// <summary>Builds it over every trainable parameter of <paramref name="network"/>, by state_dict name.</summary>
    public static AdamOptimizer For(nn.Module network, AdamOptions options) =>
        new(network.named_parameters().Select(p => (p.name, p.parameter)), options);

    /// <summary>The rate of the next steps (a schedule sets it per epoch).</summary>
    public double LearningRate { get; set; }

    /// <summary>Steps taken by the parameter updated most often.</summary>
    public long Steps => _slots.Max(s => s.Step);

    public void ZeroGrad()
    {
        foreach (var slot in _slots)
        {
            using var grad = slot.Parameter.grad;
            grad?.zero_();
        }
    }

    /// <summary>One Adam update of every parameter that has a gradient.</summary>
    public void Step()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var noGrad = no_grad();
        foreach (var slot in _slots)
        {
            using var scope = NewDisposeScope();
            var grad = slot.Parameter.grad;
            if (grad is null) continue;
            slot.EnsureState();
            slot.Step++;
            if (_options.WeightDecay != 0) grad = grad.add(slot.Parameter, _weightDecay);
            double biasCorrection1 = 1 - Math.Pow(_options.Beta1, slot.Step);
            double biasCorrection2 = 1 - Math.Pow(_options.Beta2, slot.Step);
            using var sqrtCorrection2 = Math.Sqrt(biasCorrection2).ToScalar();
            using var stepSize = (-LearningRate / biasCorrection1).ToScalar();
            slot.ExpAvg!.mul_(_beta1).add_(grad, _oneMinusBeta1);
            slot.ExpAvgSq!.mul_(_beta2).addcmul_(grad, grad, _oneMinusBeta2);
            var denominator = slot.ExpAvgSq.sqrt().div_(sqrtCorrection2).add_(_eps, HeldScalars.One);
            slot.Parameter.addcdiv_(slot.ExpAvg, denominator, stepSize);
        }
    }

    /// <summary>Saves moments and step counts (safetensors: exp_avg.NAME, exp_avg_sq.NAME, step.NAME).</summary>
    public void Save(string path)
    {
        var tensors = new List<SafetensorsTensor>();
        foreach (var slot in _slots.Where(s => s.ExpAvg is not null))
        {
            tensors.Add(SafetensorsTensor.FromTensor("exp_avg." + slot.Name, slot.ExpAvg!));
            tensors.Add(SafetensorsTensor.FromTensor("exp_avg_sq." + slot.Name, slot.ExpAvgSq!));
            using var step = tensor(new[] { slot.Step });
            tensors.Add(SafetensorsTensor.FromTensor("step." + slot.Name, step));
        }
        SafetensorsFile.Write(path, tensors, new Dictionary<string, string> { ["format"] = FormatName });
    }

    /// <summary>Loads what <see cref="Save"/> wrote, onto each parameter's device; names and shapes must match.</summary>
    public void Load(string path)
    {
        var content = SafetensorsFile.Read(path);
        if (!content.Metadata.TryGetValue("format", out var format) || format != FormatName)
            throw new InvalidDataException($"{path}: not an Adam state written by wsi-segment (format '{format ?? "none"}')");
        var known = _slots.ToDictionary(s => s.Name);
        var problems = new List<string>();
        foreach (var t in content.Tensors)
        {
            var dot = t.Name.IndexOf('.');
            var name = dot < 0 ? t.Name : t.Name[(dot + 1)..];
            if (!known.TryGetValue(name, out var slot)) { problems.Add($"unexpected '{t.Name}'"); continue; }
            bool isStep = t.Name.StartsWith("step.", StringComparison.Ordinal);
            var expected = isStep ? [1L] : slot.Parameter.shape;
            if (!t.Shape.SequenceEqual(expected))
                problems.Add($"'{t.Name}' is [{string.Join(", ", t.Shape)}], the network needs [{string.Join(", ", expected)}]");
        }
        foreach (var slot in _slots)
        {
            int present = new[] { "exp_avg.", "exp_avg_sq.", "step." }.Count(prefix => content.ByName.ContainsKey(prefix + slot.Name));
            if (present is > 0 and < 3) problems.Add($"incomplete state for '{slot.Name}'");
        }
        if (problems.Count > 0)
            throw new InvalidDataException($"{path}: optimizer state does not fit this network: {string.Join("; ", problems.Take(8))}" +
                                           (problems.Count > 8 ? $" (and {problems.Count - 8} more)" : ""));
        foreach (var slot in _slots)
        {
            if (!content.ByName.TryGetValue("exp_avg." + slot.Name, out var avg)) continue; // never stepped
            slot.Reset();
            using var avgCpu = avg.ToTensor();
            using var sqCpu = content.ByName["exp_avg_sq." + slot.Name].ToTensor();
            using var stepCpu = content.ByName["step." + slot.Name].ToTensor();
            var device = slot.Parameter.device;
            slot.ExpAvg = avgCpu.to(slot.Parameter.dtype).to(device).DetachFromDisposeScope();
            slot.ExpAvgSq = sqCpu.to(slot.Parameter.dtype).to(device).DetachFromDisposeScope();
            slot.Step = stepCpu.item<long>();
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var slot in _slots) slot.Reset();
        _beta1.Dispose();
        _oneMinusBeta1.Dispose();
        _beta2.Dispose();
        _oneMinusBeta2.Dispose();
        _weightDecay.Dispose();
        _eps.Dispose();
    }

    private sealed class Slot(string name, Parameter parameter)
    {
        public string Name { get; } = name;
        public Parameter Parameter { get; } = parameter;
        public Tensor? ExpAvg { get; set; }
        public Tensor? ExpAvgSq { get; set; }
        public long Step { get; set; }

        /// <summary>Zero moments on the parameter's device, created outside any caller's DisposeScope.</summary>
        public void EnsureState()
        {
            ExpAvg ??= zeros_like(Parameter).DetachFromDisposeScope();
            ExpAvgSq ??= zeros_like(Parameter).DetachFromDisposeScope();
        }

        public void Reset()
        {
            ExpAvg?.Dispose();
            ExpAvgSq?.Dispose();
            ExpAvg = ExpAvgSq = null;
            Step = 0;
        }
    }
}
