using System.Runtime.InteropServices;

namespace WsiSegment.Model.Runtime;

/// <summary>
/// Flush-to-zero and denormals-are-zero for the calling thread. Trained weights drive activations into subnormal
/// floats, which x86 (and many Arm cores) handle in microcode, many times slower than normal ones; CUDA flushes them
/// by default. The bits are per thread (x86 MXCSR, Arm FPCR) and a new thread copies its creator's, so they must be
/// set on every thread that runs tensor kernels before it runs its first one: libgomp gives each calling thread its
/// own pool of workers, created from it on its first parallel region, and those inherit the bits then, never later.
/// So a thread that already ran kernels also hands its environment to the workers it has (<see cref="OpenMpWorkers"/>).
/// Values below 1.2e-38 become zero; nothing else changes. WSI_SEGMENT_KEEP_DENORMALS=1 turns it off (benchmarks).
/// </summary>
public static partial class DenormalMode
{
    private const uint MxcsrFlushToZero = 1u << 15, MxcsrDenormalsAreZero = 1u << 6;
    private const uint FpcrFlushToZero = 1u << 24;

    [ThreadStatic] private static bool _prepared;

    /// <summary>True unless WSI_SEGMENT_KEEP_DENORMALS is set (to anything but 0).</summary>
    public static bool Enabled { get; } =
        Environment.GetEnvironmentVariable("WSI_SEGMENT_KEEP_DENORMALS") is not { Length: > 0 } keep || keep == "0";

    /// <summary>
    /// Sets the bits on the calling thread once (cheap to call again). Returns whether the thread now flushes
    /// denormals: false when turned off, or on a platform where the bits cannot be set this way.
    /// </summary>
    public static bool PrepareThisThread()
    {
        if (_prepared) return IsFlushingOnThisThread();
        _prepared = true;
        return Enabled && SetOnThisThread(flush: true, final: true);
    }

    /// <summary>
    /// Sets or clears the bits on the calling thread and on the OpenMP workers it has created; true when the thread's
    /// state is now the one asked for. With <paramref name="final"/> false a later <see cref="PrepareThisThread"/> may
    /// still set them. Clearing is for tests that must see denormals survive.
    /// </summary>
    internal static bool SetOnThisThread(bool flush, bool final)
    {
        if (!TryGet(out var env)) return false;
        if (RuntimeInformation.ProcessArchitecture == Architecture.X64)
            env.Mxcsr = flush ? env.Mxcsr | MxcsrFlushToZero | MxcsrDenormalsAreZero : env.Mxcsr & ~(MxcsrFlushToZero | MxcsrDenormalsAreZero);
        else
            env.Fpcr = flush ? env.Fpcr | FpcrFlushToZero : env.Fpcr & ~FpcrFlushToZero;
        if (!Set(ref env)) return false;
        OpenMpWorkers.SetEnvironment(ref env);
        _prepared = final;
        return IsFlushingOnThisThread() == flush;
    }

    /// <summary>Whether the calling thread's floating-point unit flushes subnormal results to zero now.</summary>
    public static bool IsFlushingOnThisThread()
    {
        if (!TryGet(out var env)) return false;
        return RuntimeInformation.ProcessArchitecture == Architecture.X64
            ? (env.Mxcsr & (MxcsrFlushToZero | MxcsrDenormalsAreZero)) == (MxcsrFlushToZero | MxcsrDenormalsAreZero)
            : (env.Fpcr & FpcrFlushToZero) != 0;
    }

    private static bool Set(ref FloatEnvironment env)
    {
        try { return fesetenv(ref env) == 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    private static bool TryGet(out FloatEnvironment env)
    {
        env = default;
        if (!OperatingSystem.IsLinux()) return false;
        if (RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64)) return false;
        try { return fegetenv(out env) == 0; }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    /// <summary>
    /// glibc's fenv_t: 32 bytes on x86-64 (the x87 environment, then MXCSR at byte 28); 8 on AArch64 (FPCR, FPSR).
    /// fesetenv loads all of it, so the SSE and Arm flush bits travel with it.
    /// </summary>
    [StructLayout(LayoutKind.Explicit, Size = 32)]
    internal struct FloatEnvironment
    {
        [FieldOffset(0)] public uint Fpcr;
        [FieldOffset(28)] public uint Mxcsr;
    }

    [LibraryImport("libm.so.6")]
    private static partial int fegetenv(out FloatEnvironment env);

    [LibraryImport("libm.so.6")]
    private static partial int fesetenv(ref FloatEnvironment env);
}
