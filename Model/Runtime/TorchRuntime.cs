using System.Runtime.InteropServices;
using TorchSharp;

namespace WsiSegment.Model.Runtime;

/// <summary>
/// Process-wide libtorch set-up, done once before the first tensor: allocator tuning, thread count, device choice.
/// </summary>
public static partial class TorchRuntime
{
    private static readonly object Gate = new();
    private static bool _initialised;

    /// <summary>True when the glibc allocator was tuned (see <see cref="TuneAllocator"/>).</summary>
    public static bool AllocatorTuned { get; private set; }

    /// <summary>True when the thread that initialised libtorch flushes denormals (see <see cref="DenormalMode"/>).</summary>
    public static bool FlushesDenormals { get; private set; }

    /// <summary>
    /// Loads libtorch, tunes the allocator and sets the intra-op thread count (0 = all cores). Every call also sets
    /// flush-to-zero on the calling thread (<see cref="DenormalMode"/>), so call it on each thread before its first tensor.
    /// </summary>
    public static void Initialise(int threads = 0, bool tuneAllocator = true)
    {
        bool flushing = DenormalMode.PrepareThisThread();
        lock (Gate)
        {
            if (_initialised) return;
            if (tuneAllocator && Environment.GetEnvironmentVariable("WSI_SEGMENT_NO_MALLOPT") is null)
                AllocatorTuned = TuneAllocator();
            try
            {
                torch.InitializeDeviceType(DeviceType.CPU);
            }
            catch (Exception e) when (e is DllNotFoundException or NotSupportedException or TypeInitializationException)
            {
                throw new InvalidOperationException(
                    "libtorch could not be loaded (" + e.Message + "). Rebuild with the README's set-up command, which installs " +
                    "the native libraries and applies the libstdc++ fix.", e);
            }
            torch.set_num_threads(threads > 0 ? threads : Environment.ProcessorCount);
            FlushesDenormals = flushing;
            _initialised = true;
        }
    }

    /// <summary>
    /// glibc returns large freed blocks to the kernel after every forward, so the next forward re-faults its
    /// activations (several times slower: README, "Why it is built this way"). Keep freed memory in the process instead, as PyTorch users do with
    /// MALLOC_MMAP_THRESHOLD_/MALLOC_TRIM_THRESHOLD_/MALLOC_TOP_PAD_. Returns false off glibc.
    /// </summary>
    public static bool TuneAllocator()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            const int M_TRIM_THRESHOLD = -1, M_TOP_PAD = -2, M_MMAP_THRESHOLD = -3, M_MMAP_MAX = -4;
            // glibc caps the mmap threshold at HEAP_MAX (32 MiB on 64-bit): the largest value it accepts.
            bool ok = mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1;
            ok &= mallopt(M_TRIM_THRESHOLD, int.MaxValue) == 1;
            ok &= mallopt(M_TOP_PAD, 1 << 30) == 1;
            // Blocks above that cap (the activations of a large batch) would still be mmapped and
            // unmapped per forward; M_MMAP_MAX = 0 serves them from the heap too, where they are kept and reused.
            if (Environment.GetEnvironmentVariable("WSI_SEGMENT_KEEP_MMAP") is null)
                ok &= mallopt(M_MMAP_MAX, 0) == 1;
            return ok;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>
    /// Hands the heap's free pages back to the kernel (glibc malloc_trim). The tuned allocator never trims by
    /// itself, which keeps a forward's activations warm; between a slide's inference and the writing of its outputs
    /// that memory is idle, and trimming it keeps the writers' peak from stacking on top of the stream's.
    /// The next forward re-faults its activations once. No-op when the allocator was not tuned or off glibc.
    /// </summary>
    public static void ReleaseFreedMemory()
    {
        if (!AllocatorTuned) return;
        try
        {
            malloc_trim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // not glibc: nothing to give back this way
        }
    }

    /// <summary>libtorch's intra-op thread count (after <see cref="Initialise"/>, what the forward uses).</summary>
    public static int Threads => torch.get_num_threads();

    /// <summary>Seeds libtorch's global generator: fresh weights and random inputs made afterwards are reproducible.</summary>
    public static void SeedRandom(long seed) => torch.manual_seed(seed);

    /// <summary>True when <paramref name="spec"/> ("auto", "cpu", "cuda", "cuda:N") resolves to the CPU here.</summary>
    public static bool RunsOnCpu(string spec) => ResolveDevice(spec).type == DeviceType.CPU;

    /// <summary>Resolves "auto", "cpu", "cuda" or "cuda:N" to a device, failing clearly when CUDA is asked for but absent.</summary>
    public static torch.Device ResolveDevice(string spec)
    {
        Initialise();
        spec = (spec ?? "auto").Trim().ToLowerInvariant();
        if (spec == "auto")
            return torch.cuda.is_available() ? torch.CUDA : torch.CPU;
        if (spec == "cpu")
            return torch.CPU;
        if (spec.StartsWith("cuda", StringComparison.Ordinal))
        {
            if (!torch.cuda.is_available())
                throw new ArgumentException(
                    $"device '{spec}' was asked for, but TorchSharp reports no CUDA device. Build with -p:TorchBackend=cuda " +
                    "on a machine with an NVIDIA driver (see README), or use --device cpu.");
            return torch.device(spec);
        }
        throw new ArgumentException($"unknown device '{spec}': use auto, cpu, cuda or cuda:N");
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int malloc_trim(nuint pad);

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);
}
