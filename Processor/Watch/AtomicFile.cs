namespace WsiSegment.Processor.Watch;

/// <summary>
/// Writes a whole text file so readers see the old or the new content, never a mix (temp file + rename, via
/// Stitching's <see cref="WsiSegment.Stitching.Output.AtomicFile"/>). Durable writes are flushed to disk before the
/// rename (records); status snapshots skip that (rewritten every second).
/// </summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string content, bool durable = true)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        WsiSegment.Stitching.Output.AtomicFile.Write(path, temp =>
        {
            using var s = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None);
            using var w = new StreamWriter(s);
            w.Write(content);
            w.Flush();
            s.Flush(flushToDisk: durable);
        });
    }
}
