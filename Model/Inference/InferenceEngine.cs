using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;
using WsiSegment.Model.Cards;
using WsiSegment.Model.Network;
using WsiSegment.Model.Runtime;
using WsiSegment.Core.Scores;
using static TorchSharp.torch;

namespace WsiSegment.Model.Inference;

/// <summary>
/// Runs a loaded model for inference: its own eval-mode copy of the network (BatchNorm folded, on the chosen device
/// and precision), inference mode, any H×W (padded to a multiple of 8 and cropped back), every temporary in a
/// DisposeScope. Not thread-safe: one engine per worker.
/// </summary>
public sealed class InferenceEngine : IDisposable
{
    private readonly SegmentationNetwork _network;
    private readonly Device _device;
    private readonly ScalarType _dtype;
    private readonly bool _channelsLast;
    private readonly Tensor _scale;   // per network-input channel: x = v·scale + offset (float32, on device)
    private readonly Tensor _offset;
    private readonly bool _bgr;
    private readonly Stain.StainTransform? _stain;
    private InferenceEngine? _bf16Candidate; // precision auto, until the trial decides
    private PrecisionTrial? _trial;          // precision auto, from the first call on pixels until it decides
    private InferenceEngine? _bf16Chosen;    // precision auto, decided for bf16: every call goes to it
    private bool _disposed;

    private InferenceEngine(SegmentationNetwork network, ModelCard card, InferenceOptions options, Device device)
    {
        _network = network;
        Card = card;
        Options = options;
        _device = device;
        _dtype = options.Precision switch
        {
            InferencePrecision.Bf16 => ScalarType.BFloat16,
            InferencePrecision.Fp16 => ScalarType.Float16,
            _ => ScalarType.Float32,
        };
        _channelsLast = options.ChannelsLast;
        var affine = card.Normalisation.Affine();
        _bgr = card.Normalisation.ChannelOrder == ChannelOrder.BGR;
        _stain = card.StainNormalisation is { } stain ? new Stain.StainTransform(stain) : null;
        // Network channel c comes from RGB channel affine[c].Source: for BGR that is the reversed order.
        _scale = tensor(affine.Select(a => a.A).ToArray(), [1, 1, 1, 3]).to(device).DetachFromDisposeScope();
        _offset = tensor(affine.Select(a => a.B).ToArray(), [1, 1, 1, 3]).to(device).DetachFromDisposeScope();
    }

    /// <summary>Builds an engine with its own copy of <paramref name="model"/>'s network (the model stays usable).</summary>
    public static InferenceEngine Create(LoadedModel model, InferenceOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        options.Validate();
        TorchRuntime.Initialise();
        var device = TorchRuntime.ResolveDevice(options.Device);
        if (options.Precision == InferencePrecision.Fp16 && device.type != DeviceType.CUDA)
            throw new ArgumentException("precision fp16 needs a CUDA device; on CPU use fp32 or bf16");

        var copy = NetworkFactory.Create(model.Spec);
        try
        {
            using (no_grad())
            {
                var source = model.Network.state_dict();
                foreach (var (name, target) in copy.state_dict())
                    target.copy_(source[name]);
            }
            copy.eval();
            if (options.FoldBatchNorm) copy.FoldBatchNorm();
            copy.to(device);
            if (options.Precision is InferencePrecision.Bf16 or InferencePrecision.Fp16)
                copy.to(options.Precision == InferencePrecision.Bf16 ? ScalarType.BFloat16 : ScalarType.Float16);
            if (options.Precision == InferencePrecision.Bf16 && device.type == DeviceType.CPU)
            {
                if (PaddedConvInput.UnsafeTransposedConvolution(copy) is { } why)
                    throw new ArgumentException($"precision bf16 on the CPU: {why}; use fp32 (or auto)");
                foreach (var module in copy.modules())
                {
                    if (module is ConvLayer layer) PaddedConvInput.PadWeights(layer.Conv);
                    else if (module is ConvBnPrelu cbr) PaddedConvInput.PadWeights(cbr.Conv);
                }
            }
            foreach (var p in copy.parameters()) p.requires_grad = false;
            var engine = new InferenceEngine(copy, model.Card, options, device);
            if (options.Precision == InferencePrecision.Auto)
            {
                if (device.type == DeviceType.CPU && PaddedConvInput.UnsafeTransposedConvolution(copy) is { } why)
                {
                    engine.PrecisionDecision = new PrecisionDecision(InferencePrecision.Fp32, null, "bf16 is not used on this CPU: " + why);
                    return engine;
                }
                // The first batch of real pixels compares labels; it and the next ones time both (PrecisionTrial).
                try { engine._bf16Candidate = Create(model, options with { Precision = InferencePrecision.Bf16 }); }
                catch { engine.Dispose(); throw; }
            }
            return engine;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    public int Classes => Card.ClassCount;
    public ModelCard Card { get; }
    public InferenceOptions Options { get; }

    /// <summary>The precision the network runs in now (with auto: fp32 until the trial has decided, apart from its bf16 batches).</summary>
    public InferencePrecision Precision => _bf16Chosen is not null ? InferencePrecision.Bf16
        : Options.Precision == InferencePrecision.Auto ? InferencePrecision.Fp32 : Options.Precision;

    /// <summary>With precision auto: what the trial measured and chose (null before the first call on pixels, and for
    /// fixed precisions; while the trial runs, fp32 with what it has measured so far).</summary>
    public PrecisionDecision? PrecisionDecision
    {
        get => _decision ?? _trial?.Unfinished();
        private set => _decision = value;
    }

    private PrecisionDecision? _decision;

    /// <summary>Raw logits (float32, NCHW, on the engine's device) for a normalised float NCHW batch of any H×W; the caller disposes them.
    /// ESPNet gives H×W; ESPNet-C ⌈H/8⌉×⌈W/8⌉. With <paramref name="contiguous"/> false they keep the network's own
    /// (channels-last) strides: the forward alone, which is what benchmarks compare the rest against.</summary>
    internal Tensor Logits(Tensor normalisedNchw, bool contiguous = true)
    {
        if (_bf16Chosen is { } chosen) return chosen.Logits(normalisedNchw, contiguous);
        Enter();
        if (normalisedNchw.dim() != 4 || normalisedNchw.shape[1] != 3)
            throw new ArgumentException($"expected an N×3×H×W tensor, got [{string.Join(", ", normalisedNchw.shape)}]");
        using var mode = inference_mode();
        using var scope = NewDisposeScope();
        var logits = Forward(normalisedNchw.to(_dtype).to(_device));
        logits = logits.to(ScalarType.Float32);
        return scope.MoveToOuter(contiguous ? logits.contiguous() : logits);
    }

    /// <summary>
    /// Class scores for n RGB images (h×w×3 bytes each, HWC, normalised per the card) in the network's own
    /// channels-last layout: no transpose and no copy-out (on CPU), so the only work around the forward is turning
    /// bytes into floats and, for probabilities, a softmax (the stitcher takes logits and applies it only where tiles overlap).
    /// The caller disposes the batch.
    /// </summary>
    public ScoreBatch Predict(ReadOnlySpan<byte> rgb, int n, int h, int w, ScoreKind kind = ScoreKind.Probabilities)
    {
        var engine = Route(rgb, n, h, w, out long started);
        var scores = engine.PredictHere(rgb, n, h, w, kind);
        Ran(engine, started, n, h, w);
        return scores;
    }

    private ScoreBatch PredictHere(ReadOnlySpan<byte> rgb, int n, int h, int w, ScoreKind kind)
    {
        CheckSizes(rgb.Length, n, h, w, n * h * w, "rgb", labelsOnly: n * h * w);
        using var mode = inference_mode();
        using var scope = NewDisposeScope();
        var scores = UpsampleIfCoarse(Forward(Normalise(rgb, n, h, w)).to(ScalarType.Float32), h, w);
        // Softmax over dim 1 of channels-last memory keeps that memory format; libtorch's last-dim softmax is much
        // slower for a few classes.
        if (kind == ScoreKind.Probabilities) scores = scores.softmax(1);
        var nhwc = scores.permute(0, 2, 3, 1).cpu().contiguous(); // channels-last memory: already contiguous, no copy
        return new ScoreBatch(scope.MoveToOuter(nhwc).DetachFromDisposeScope(), kind);
    }

    /// <summary>Softmax probabilities for n RGB images (h×w×3 bytes each, HWC), normalised per the card; n×Classes×h×w floats out
    /// (class planes; <see cref="Predict"/> avoids this layout's transpose and copy).</summary>
    public void PredictProbabilities(ReadOnlySpan<byte> rgb, int n, int h, int w, Span<float> probabilities)
    {
        var engine = Route(rgb, n, h, w, out long started);
        engine.PredictProbabilitiesHere(rgb, n, h, w, probabilities);
        Ran(engine, started, n, h, w);
    }

    private void PredictProbabilitiesHere(ReadOnlySpan<byte> rgb, int n, int h, int w, Span<float> probabilities)
    {
        CheckSizes(rgb.Length, n, h, w, probabilities.Length, "probabilities");
        using var mode = inference_mode();
        using var scope = NewDisposeScope();
        var logits = Forward(Normalise(rgb, n, h, w));
        var probs = UpsampleIfCoarse(logits.to(ScalarType.Float32), h, w).softmax(1);
        CopyOut(probs, MemoryMarshal.AsBytes(probabilities));
    }

    /// <summary>Arg-max labels for n RGB images (h×w×3 bytes each); n×h×w bytes out.</summary>
    public void PredictLabels(ReadOnlySpan<byte> rgb, int n, int h, int w, Span<byte> labels)
    {
        var engine = Route(rgb, n, h, w, out long started);
        engine.PredictLabelsHere(rgb, n, h, w, labels);
        Ran(engine, started, n, h, w);
    }

    /// <summary><see cref="PredictLabels"/> computed by this engine itself, whatever auto has chosen.</summary>
    internal void PredictLabelsHere(ReadOnlySpan<byte> rgb, int n, int h, int w, Span<byte> labels)
    {
        CheckSizes(rgb.Length, n, h, w, labels.Length / Classes, "labels", labelsOnly: labels.Length);
        using var mode = inference_mode();
        using var scope = NewDisposeScope();
        var logits = Forward(Normalise(rgb, n, h, w));
        var classes = UpsampleIfCoarse(logits.to(ScalarType.Float32), h, w).argmax(1).to(ScalarType.Byte);
        CopyOut(classes, labels);
    }

    /// <summary>n RGB images (h×w×3 bytes each) normalised per the card, kept on the engine's device for repeated
    /// forwards (<see cref="RunForward"/>); the caller disposes it.</summary>
    public NetworkInput NormaliseRgb(ReadOnlySpan<byte> rgb, int n, int h, int w)
    {
        CheckSizes(rgb.Length, n, h, w, n * h * w, "rgb", labelsOnly: n * h * w);
        using var scope = NewDisposeScope();
        return new NetworkInput(scope.MoveToOuter(Normalise(rgb, n, h, w).to(ScalarType.Float32).contiguous()));
    }

    /// <summary>The forward alone on a prepared input, its logits discarded: what benchmarks time the rest against.</summary>
    public void RunForward(NetworkInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var logits = Logits(input.Tensor, contiguous: false);
    }

    /// <summary>
    /// Logits and arg-max labels of n RGB images (h×w×3 bytes each, HWC, normalised per the card) in one forward
    /// over the whole images (no tiling), copied out: what <c>predict</c> writes.
    /// </summary>
    public LogitMaps PredictWhole(ReadOnlySpan<byte> rgb, int n, int h, int w)
    {
        var engine = Route(rgb, n, h, w, out long started);
        var maps = engine.PredictWholeHere(rgb, n, h, w);
        Ran(engine, started, n, h, w);
        return maps;
    }

    private LogitMaps PredictWholeHere(ReadOnlySpan<byte> rgb, int n, int h, int w)
    {
        CheckSizes(rgb.Length, n, h, w, n * h * w, "rgb", labelsOnly: n * h * w);
        using var mode = inference_mode();
        using var scope = NewDisposeScope();
        return LogitMaps.From(Forward(Normalise(rgb, n, h, w)));
    }

    /// <summary>As <see cref="PredictWhole(ReadOnlySpan{byte}, int, int, int)"/> for an input already normalised:
    /// float32 N×3×H×W values used as they are (parity checks against other frameworks).</summary>
    public LogitMaps PredictWhole(float[] normalisedNchw, int n, int h, int w)
    {
        ArgumentNullException.ThrowIfNull(normalisedNchw);
        if (_bf16Chosen is { } chosen) return chosen.PredictWhole(normalisedNchw, n, h, w);
        Enter();
        if (n < 1 || h < 1 || w < 1) throw new ArgumentOutOfRangeException(nameof(n), $"input {n}×3×{h}×{w} must be positive");
        if (normalisedNchw.LongLength != 3L * n * h * w)
            throw new ArgumentException($"input holds {normalisedNchw.LongLength} values, {n}×3×{h}×{w} = {3L * n * h * w} expected");
        using var mode = inference_mode();
        using var scope = NewDisposeScope();
        var x = tensor(normalisedNchw, [n, 3, h, w]);
        return LogitMaps.From(Forward(x.to(_dtype).to(_device)));
    }

    /// <summary>Bytes (n×h×w×3 RGB) → normalised network input, N×3×H×W with channels-last strides, on the device.</summary>
    private Tensor Normalise(ReadOnlySpan<byte> rgb, int n, int h, int w)
    {
        var bytes = empty([n, h, w, 3], ScalarType.Byte);
        // TorchSharp's setter takes a Span but only reads it (one copy into the tensor).
        bytes.bytes = MemoryMarshal.CreateSpan(ref MemoryMarshal.GetReference(rgb), rgb.Length);
        var x = bytes.to(_device).to(ScalarType.Float32);
        // The card's stain normalisation, on the patch pixels before anything else (segment, watch, cluster, predict).
        if (_stain is not null) x = _stain.Apply(x);
        if (_bgr) x = x.flip(3);
        x = x.mul_(_scale).add_(_offset, HeldScalars.One);
        // NHWC memory viewed as NCHW: already channels-last, no copy.
        return x.to(_dtype).permute(0, 3, 1, 2);
    }

    /// <summary>Pads to a multiple of 8 (edge replication), runs the network, crops back. Tensors stay in the caller's scope.</summary>
    private Tensor Forward(Tensor x)
    {
        long h = x.shape[2], w = x.shape[3];
        long ph = (8 - h % 8) % 8, pw = (8 - w % 8) % 8;
        if (ph > 0 || pw > 0)
            x = nn.functional.pad(x, [0, pw, 0, ph], PaddingModes.Replicate);
        if (_channelsLast) x = ChannelsLast.Of(x);
        var logits = _network.ForwardChannelsLast(x);
        if (ph == 0 && pw == 0) return logits;
        int stride = _network.OutputStride;
        long oh = (h + stride - 1) / stride, ow = (w + stride - 1) / stride;
        return logits[.., .., ..(int)oh, ..(int)ow];
    }

    /// <summary>ESPNet-C predicts at 1/8: bilinear up-sampling to the input size (ESPNet's logits pass through).</summary>
    private Tensor UpsampleIfCoarse(Tensor logits, int h, int w) =>
        logits.shape[2] == h && logits.shape[3] == w
            ? logits
            : nn.functional.interpolate(logits, [h, w], mode: InterpolationMode.Bilinear, align_corners: false);

    private static void CopyOut(Tensor t, Span<byte> destination)
    {
        var cpu = t.cpu().contiguous();
        ReadOnlySpan<byte> src = cpu.bytes;
        if (src.Length != destination.Length)
            throw new InvalidOperationException($"internal: {src.Length} result bytes for a {destination.Length}-byte buffer");
        src.CopyTo(destination);
    }

    /// <summary>
    /// The engine that computes this call: this one, or with precision auto the bf16 one where the trial (or its
    /// decision) says so. The first call on pixels compares both engines' labels on its input; below the bound, fp32 is
    /// decided there and then; otherwise the trial starts. <paramref name="started"/> is when the call's own work began.
    /// </summary>
    private InferenceEngine Route(ReadOnlySpan<byte> rgb, int n, int h, int w, out long started)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_bf16Candidate is { } candidate)
        {
            if (_trial is null)
            {
                try
                {
                    CheckSizes(rgb.Length, n, h, w, n * h * w, "rgb", labelsOnly: n * h * w);
                    double agreement = PrecisionProbe.Agreement(this, candidate, rgb, n, h, w);
                    var trial = new PrecisionTrial(agreement, n, h, w);
                    if (agreement < PrecisionProbe.MinLabelAgreement) Conclude(trial.Decide());
                    else _trial = trial;
                }
                catch
                {
                    _bf16Candidate = null;
                    candidate.Dispose();
                    throw;
                }
            }
            started = Stopwatch.GetTimestamp();
            return _trial?.Next == InferencePrecision.Bf16 && _bf16Candidate is not null ? _bf16Candidate : this;
        }
        started = Stopwatch.GetTimestamp();
        return _bf16Chosen ?? this;
    }

    /// <summary>After a call: during the trial, its time goes to the precision that ran it; the last batch decides.</summary>
    private void Ran(InferenceEngine engine, long started, int n, int h, int w)
    {
        if (_trial is not { } trial) return;
        trial.Record(ReferenceEquals(engine, this) ? InferencePrecision.Fp32 : InferencePrecision.Bf16,
            Stopwatch.GetElapsedTime(started).TotalMilliseconds, (long)n * h * w);
        if (trial.Complete) Conclude(trial.Decide());
    }

    private void Conclude(PrecisionDecision decision)
    {
        PrecisionDecision = decision;
        _trial = null;
        var candidate = _bf16Candidate;
        _bf16Candidate = null;
        if (decision.Chosen == InferencePrecision.Bf16) _bf16Chosen = candidate;
        else candidate?.Dispose();
    }

    /// <summary>Every compute call starts here: the engine is alive and the calling thread flushes denormals before its first kernel.</summary>
    private void Enter()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        DenormalMode.PrepareThisThread();
    }

    private void CheckSizes(int rgbLength, int n, int h, int w, int outLength, string what, int labelsOnly = -1)
    {
        Enter();
        if (n < 1 || h < 1 || w < 1) throw new ArgumentOutOfRangeException(nameof(n), $"batch {n}×{h}×{w} must be positive");
        long pixels = (long)n * h * w;
        if (rgbLength != pixels * 3)
            throw new ArgumentException($"rgb holds {rgbLength} bytes, {n}×{h}×{w}×3 = {pixels * 3} expected");
        long expected = labelsOnly >= 0 ? pixels : pixels * Classes;
        long actual = labelsOnly >= 0 ? labelsOnly : outLength;
        if (actual != expected) throw new ArgumentException($"{what} holds {actual} values, {expected} expected");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _bf16Candidate?.Dispose();
        _bf16Chosen?.Dispose();
        _network.Dispose();
        _scale.Dispose();
        _offset.Dispose();
    }
}
