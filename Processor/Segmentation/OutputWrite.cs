using WsiSegment.Stitching.Output;

namespace WsiSegment.Processor.Segmentation;

/// <summary>Writes by code outside Stitching's writers (the tissue PNG, the report) failing as <see cref="OutputWriteException"/>s.</summary>
internal static class OutputWrite
{
    /// <summary>Runs a write of <paramref name="path"/> by code that throws plain I/O errors (or libvips', saving an
    /// image already in memory: only the file can fail) as an output write.</summary>
    public static void Run(string path, Action write)
    {
        try { write(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw OutputWriteException.From(path, e); }
        catch (NetVips.VipsException e)
        {
            string reason = string.Join("; ", e.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            throw new OutputWriteException(path, reason, e);
        }
    }

    public static async Task RunAsync(string path, Func<Task> write)
    {
        try { await write(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw OutputWriteException.From(path, e); }
    }
}
