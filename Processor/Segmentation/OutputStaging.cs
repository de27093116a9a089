using WsiSegment.Stitching.Output;

namespace WsiSegment.Processor.Segmentation;

/// <summary>
/// Collects one slide's outputs in a hidden staging folder next to their destination and moves them into place
/// only when all are complete, so an interrupted or failed run never leaves a file that looks finished.
/// Disposing without <see cref="Commit"/> deletes everything staged.
/// </summary>
public sealed class OutputStaging : IDisposable
{
    private readonly string _outDir;
    private bool _committed;

    /// <summary>Stages the outputs <paramref name="outputs"/> names (see <see cref="Files"/>).</summary>
    public OutputStaging(SlideOutputs outputs) : this(outputs.Dir, outputs.Stem) { }

    public OutputStaging(string outDir, string slideStem)
    {
        _outDir = outDir;
        try
        {
            Directory.CreateDirectory(outDir);
            string stem = slideStem.Length > 100 ? slideStem[..100] : slideStem;
            StagingDir = Path.Combine(outDir, $".staging-{stem}-{Environment.ProcessId}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(StagingDir);
            Files = new SlideOutputs(StagingDir, slideStem);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"{outDir}: output directory cannot be written ({e.Message})", e);
        }
    }

    public string StagingDir { get; }

    /// <summary>The slide's outputs as they are written: in the staging folder.</summary>
    public SlideOutputs Files { get; }

    /// <summary>Path of a staged output; after <see cref="Commit"/> it lives under the same name in the output folder.</summary>
    public string Staged(string fileName) => Path.Combine(StagingDir, fileName);

    /// <summary>Whether <paramref name="path"/> lies in the staging folder.</summary>
    public bool Holds(string path) =>
        Path.GetFullPath(path).StartsWith(Path.GetFullPath(StagingDir) + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>
    /// A failure to write a staged file given as the output it stands for: the user knows OUTDIR/STEM.mask.tif, not
    /// the hidden staging folder. Failures naming files elsewhere are returned as they are.
    /// </summary>
    public OutputWriteException Publish(OutputWriteException e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (!Holds(e.Path)) return e;
        string relative = Path.GetRelativePath(Path.GetFullPath(StagingDir), Path.GetFullPath(e.Path));
        return e.Published(Path.Combine(_outDir, relative), StagingDir, _outDir);
    }

    /// <summary>Moves every staged file into the output folder (replacing older results) and removes the staging folder.</summary>
    public IReadOnlyList<string> Commit(IEnumerable<string>? order = null)
    {
        var files = Directory.GetFiles(StagingDir).Select(Path.GetFileName).OfType<string>().ToList();
        // The report goes last: its presence marks a complete set (the watch service relies on that).
        if (order is not null)
        {
            var rank = order.Select((n, i) => (n, i)).ToDictionary(t => t.n, t => t.i);
            files = files.OrderBy(f => rank.GetValueOrDefault(f, -1)).ToList();
        }
        var moved = new List<string>();
        foreach (var f in files)
        {
            string dest = Path.Combine(_outDir, f);
            File.Move(Path.Combine(StagingDir, f), dest, overwrite: true);
            moved.Add(dest);
        }
        Directory.Delete(StagingDir, recursive: true);
        _committed = true;
        return moved;
    }

    public void Dispose()
    {
        if (_committed) return;
        try { if (Directory.Exists(StagingDir)) Directory.Delete(StagingDir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
