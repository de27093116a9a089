namespace WsiSegment.Stitching.Output;

/// <summary>Writes a file under a temporary name beside it and renames it only when complete, so an interrupted run
/// never leaves a file that looks finished.</summary>
public static class AtomicFile
{
    public static string TemporaryName(string path) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.part");

    /// <summary>Runs <paramref name="write"/> on a temporary path, then renames it to <paramref name="path"/> (replacing it).
    /// On any failure the temporary file is removed and the exception propagates.</summary>
    public static void Write(string path, Action<string> write)
    {
        string temp = TemporaryName(path);
        try
        {
            write(temp);
            if (!File.Exists(temp)) throw new IOException($"{path} was not written");
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
