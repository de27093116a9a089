using System.Runtime.InteropServices;

namespace WsiSegment.Model.Runtime;

/// <summary>
/// The OpenMP workers libtorch's CPU kernels run on (libgomp, shipped inside the libtorch package under a
/// hashed name). A worker copies its floating-point environment from the thread that created it, once; to change it
/// later, the calling thread runs one parallel region in which every thread of its team (itself and its workers)
/// calls glibc's fesetenv on the same environment. A no-op until libtorch has loaded libgomp: workers created after
/// that inherit the calling thread's environment anyway.
/// </summary>
internal static unsafe class OpenMpWorkers
{
    private static nint _gompParallel; // found once libtorch has loaded libgomp; looked for again until then
    private static readonly Lazy<nint> FeSetEnv = new(() =>
        NativeLibrary.TryLoad("libm.so.6", out var libm) && NativeLibrary.TryGetExport(libm, "fesetenv", out var f) ? f : 0);

    /// <summary>Makes every existing worker of the calling thread's team take <paramref name="env"/>; false when libgomp is not loaded.</summary>
    public static bool SetEnvironment(ref DenormalMode.FloatEnvironment env)
    {
        if (_gompParallel == 0) _gompParallel = FindGompParallel();
        nint parallel = _gompParallel, setenv = FeSetEnv.Value;
        if (parallel == 0 || setenv == 0) return false;
        // GOMP_parallel(fn, data, num_threads = 0: the calling thread's default team, flags = 0). fesetenv(const fenv_t*)
        // has the shape of an OpenMP outlined function, void fn(void*); its int result is ignored.
        fixed (DenormalMode.FloatEnvironment* data = &env)
            ((delegate* unmanaged<nint, void*, uint, uint, void>)parallel)(setenv, data, 0, 0);
        return true;
    }

    /// <summary>GOMP_parallel of the libgomp already mapped into this process (libtorch's own copy), or 0.</summary>
    private static nint FindGompParallel()
    {
        if (!OperatingSystem.IsLinux()) return 0;
        try
        {
            string? path = File.ReadLines("/proc/self/maps")
                .Select(line => line.IndexOf('/') is var i and >= 0 ? line[i..] : null)
                .FirstOrDefault(p => p is not null && Path.GetFileName(p).StartsWith("libgomp", StringComparison.Ordinal));
            // Loading a library that is already mapped returns the same instance (and its workers).
            return path is not null && NativeLibrary.TryLoad(path, out var lib) && NativeLibrary.TryGetExport(lib, "GOMP_parallel", out var f) ? f : 0;
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
