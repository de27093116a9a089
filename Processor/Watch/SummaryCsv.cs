using System.Globalization;
using System.Text;

namespace WsiSegment.Processor.Watch;

/// <summary>
/// OUTBOX/summary.csv: one row per slide outcome (slide, status, attempts, seconds of segmentation and of service overhead, reason, area of each class in mm²).
/// Each row is appended with a single write under an exclusive lock (a side file), so rows of several workers never
/// interleave; readers are never locked out; a file whose header does not match (another model's classes) is set aside first.
/// </summary>
public sealed class SummaryCsv
{
    private readonly string _path;
    private readonly string _header;
    private readonly int _classCount;

    public SummaryCsv(string path, IReadOnlyList<string> classNames)
    {
        _path = path;
        _classCount = classNames.Count;
        _header = string.Join(',', new[] { "finished_utc", "slide", "status", "attempts", "seconds", "overhead_seconds", "reason" }
            .Concat(classNames.Select(c => Escape("area_mm2_" + c)))) + "\n";
    }

    public string Path => _path;

    /// <summary>Seconds: the segmentation itself; overhead: the service's own time around it (claim, checks, moves, reports).</summary>
    public sealed record Row(DateTimeOffset FinishedUtc, string Slide, string Status, int Attempts, double Seconds, double OverheadSeconds, string? Reason, IReadOnlyList<double>? AreasMm2);

    public void Append(Row row)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(row.FinishedUtc.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", c)).Append(',')
          .Append(Escape(row.Slide)).Append(',')
          .Append(row.Status).Append(',')
          .Append(row.Attempts.ToString(c)).Append(',')
          .Append(row.Seconds.ToString("0.###", c)).Append(',')
          .Append(row.OverheadSeconds.ToString("0.###", c)).Append(',')
          .Append(Escape(row.Reason ?? ""));
        int columns = _classCount;
        for (int i = 0; i < columns; i++)
        {
            sb.Append(',');
            if (row.AreasMm2 is { } a && i < a.Count && double.IsFinite(a[i])) sb.Append(a[i].ToString("0.######", c));
        }
        sb.Append('\n');
        WriteLocked(Encoding.UTF8.GetBytes(sb.ToString()));
    }

    private void WriteLocked(byte[] line)
    {
        // The exclusive lock (flock, which FileShare.None takes on Unix) is on a side file, so readers of the CSV itself
        // are never turned away while a row is being appended.
        string lockPath = System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(_path))!, "." + System.IO.Path.GetFileName(_path) + ".lock");
        for (int attempt = 0; ; attempt++)
        {
            FileStream gate;
            try
            {
                gate = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 400)
            {
                Thread.Sleep(25);
                continue;
            }
            using (gate)
            using (var s = new FileStream(_path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete))
            {
                EnsureHeader(s);
                s.Seek(0, SeekOrigin.End);
                s.Write(line);
                s.Flush(flushToDisk: true);
            }
            return;
        }
    }

    private void EnsureHeader(FileStream s)
    {
        var header = Encoding.UTF8.GetBytes(_header);
        if (s.Length > 0)
        {
            var existing = new byte[Math.Min(s.Length, header.Length)];
            s.Position = 0;
            s.ReadExactly(existing);
            if (existing.AsSpan().SequenceEqual(header)) return;
            // Another model's columns: keep the old rows under a dated name and start afresh.
            string aside = System.IO.Path.ChangeExtension(_path, null) + "." + DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss", CultureInfo.InvariantCulture) + ".csv";
            s.Position = 0;
            using (var copy = new FileStream(aside, FileMode.CreateNew, FileAccess.Write))
                s.CopyTo(copy);
            s.SetLength(0);
        }
        s.Position = 0;
        s.Write(header);
    }

    public static string Escape(string field) =>
        field.IndexOfAny([',', '"', '\n', '\r']) < 0 ? field : "\"" + field.Replace("\"", "\"\"") + "\"";
}
