using System.Text.RegularExpressions;

namespace WsiSegment.Stitching.Output;

/// <summary>Writes a file under a temporary name beside it and renames it only when complete, so an interrupted run
/// never leaves a file that looks finished, and readers see the old or the new content, never a mix. A failure to
/// write is an <see cref="OutputWriteException"/> naming the file, not its temporary name.</summary>
public static partial class AtomicFile
{
    public static string TemporaryName(string path) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.part");

    /// <summary><paramref name="text"/> with the temporary names of <see cref="TemporaryName"/> given as the files they stand for.</summary>
    public static string WithFinalNames(string text) => TemporaryNamePattern().Replace(text, "$1");

    // TemporaryName: "." + file name + "." + 32 hex digits + ".part".
    [GeneratedRegex(@"(?<=[/\\]|^)\.([^/\\]+)\.[0-9a-f]{32}\.part")]
    private static partial Regex TemporaryNamePattern();

    /// <summary>Runs <paramref name="write"/> on a temporary path, then renames it to <paramref name="path"/> (replacing it).
    /// On any failure the temporary file is removed and the exception propagates.</summary>
    public static void Write(string path, Action<string> write) => WriteAll([path], temps => write(temps[0]));

    /// <summary>A whole text file. Durable writes are flushed to disk before the rename (records); frequently
    /// rewritten snapshots (a status file) can skip that.</summary>
    public static void WriteAllText(string path, string content, bool durable = true)
    {
        try { Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw OutputWriteException.From(path, e); }
        Write(path, temp =>
        {
            using var s = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            using var w = new StreamWriter(s);
            w.Write(content);
            w.Flush();
            s.Flush(flushToDisk: durable);
        });
    }

    /// <summary>
    /// Several files written together: <paramref name="write"/> gets a temporary path per file (same order), and only
    /// when it has written them all are they renamed into place. On any failure every temporary file is removed.
    /// </summary>
    public static void WriteAll(IReadOnlyList<string> paths, Action<IReadOnlyList<string>> write)
    {
        var temps = paths.Select(TemporaryName).ToList();
        int failing = 0;
        try
        {
            write(temps);
            for (int i = 0; i < paths.Count; i++)
                if (!File.Exists(temps[i])) throw new IOException($"{paths[i]} was not written");
            for (failing = 0; failing < paths.Count; failing++) File.Move(temps[failing], paths[failing], overwrite: true);
        }
        catch (Exception e)
        {
            foreach (var temp in temps)
                try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            if (e is not (IOException or UnauthorizedAccessException) || e is OutputWriteException) throw;
            // The file whose temporary name the error gives (the writer's own message), else the one being renamed.
            int named = temps.FindIndex(t => e.Message.Contains(t, StringComparison.Ordinal));
            int i = named >= 0 ? named : Math.Min(failing, paths.Count - 1);
            throw OutputWriteException.From(paths[i], e, temps[i]);
        }
    }
}
