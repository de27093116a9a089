namespace WsiSegment.Stitching.Output;

/// <summary>Writes a file under a temporary name beside it and renames it only when complete, so an interrupted run
/// never leaves a file that looks finished.</summary>
public static class AtomicFile
{
    public static string TemporaryName(string path) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.part");

    /// <summary>Runs <paramref name="write"/> on a temporary path, then renames it to <paramref name="path"/> (replacing it).
    /// On any failure the temporary file is removed and the exception propagates.</summary>
    public static void Write(string path, Action<string> write) => WriteAll([path], temps => write(temps[0]));

    /// <summary>
    /// Several files written together: <paramref name="write"/> gets a temporary path per file (same order), and only
    /// when it has written them all are they renamed into place. On any failure every temporary file is removed.
    /// </summary>
    public static void WriteAll(IReadOnlyList<string> paths, Action<IReadOnlyList<string>> write)
    {
        var temps = paths.Select(TemporaryName).ToList();
        try
        {
            write(temps);
            for (int i = 0; i < paths.Count; i++)
                if (!File.Exists(temps[i])) throw new IOException($"{paths[i]} was not written");
            for (int i = 0; i < paths.Count; i++) File.Move(temps[i], paths[i], overwrite: true);
        }
        catch
        {
            foreach (var temp in temps)
                try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
