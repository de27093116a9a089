namespace WsiSegment.Processor.Watch;

/// <summary>
/// Writes a whole file so readers see the old or the new content, never a mix: a hidden temp file, then rename.
/// Durable writes are flushed to disk before the rename (records); status snapshots skip that (rewritten every second).
/// </summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string content, bool durable = true)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        string temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var s = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            using (var w = new StreamWriter(s))
            {
                w.Write(content);
                w.Flush();
                s.Flush(flushToDisk: durable);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
