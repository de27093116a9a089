using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Commands;
using WsiSegment.Stitching.Output;
using WsiSegment.Core.Classes;

namespace WsiSegment.Processor.Bench;

/// <summary>
/// `wsi-segment bench geojson`: seconds to polygonise and write GeoJSON for worst-case label maps (salt-and-pepper at
/// several densities, checkerboards, speckle, blobs) at the reduced size segment uses (2048² by default), with the
/// polygon and point counts, the file size and how many polygons the per-class cap dropped. CPU seconds are given
/// beside wall seconds because on a shared machine the wall clock measures the neighbours too.
/// </summary>
public static class GeoJsonBenchmark
{
    private static readonly ClassTable Classes = new(Enumerable.Range(0, 8)
        .Select(i => new ClassInfo(i == 0 ? "background" : $"class{i}", new Rgb((byte)(i * 30), (byte)(255 - i * 30), (byte)(i * 17)))).ToList());

    public static Command Create()
    {
        var size = new Option<string>("--size") { Description = "Map size WxH (reduced pixels).", DefaultValueFactory = _ => "2048x2048" };
        var maps = new Option<string>("--maps") { Description = "Comma list of maps: " + string.Join(", ", NoisyLabelMaps.Names), DefaultValueFactory = _ => string.Join(",", NoisyLabelMaps.Names) };
        var cap = new Option<int>("--max-polygons") { Description = "Per-class polygon cap.", DefaultValueFactory = _ => GeoJsonWriter.DefaultMaxPolygonsPerClass };
        var cmd = new Command("geojson", "Seconds to polygonise and write GeoJSON for noisy worst-case label maps (salt-and-pepper, checkerboard, speckle).") { size, maps, cap };
        cmd.SetAction((parse, ct) => CommandRunner.RunAsync(parse, "bench geojson", ct, (_, token) =>
        {
            var (w, h) = ParseSize(parse.GetValue(size)!);
            string dir = Path.Combine(Path.GetTempPath(), "wsi-segment-bench-geojson-" + Environment.ProcessId);
            Directory.CreateDirectory(dir);
            try
            {
                Console.WriteLine($"bench geojson: {w}×{h} reduced pixels, cores {Environment.ProcessorCount}, cap {parse.GetValue(cap)} polygons per class");
                Console.WriteLine($"{"map",-12} {"seconds",8} {"cpu-s",7} {"polygons",9} {"points",10} {"dropped",9} {"MiB",7}");
                foreach (var name in parse.GetValue(maps)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    token.ThrowIfCancellationRequested();
                    ReducedLabels map;
                    try { map = NoisyLabelMaps.Create(name, w, h); }
                    catch (ArgumentException e) { throw new UserError(e.Message, e); }
                    string path = Path.Combine(dir, name + ".geojson");
                    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                    var sw = Stopwatch.StartNew();
                    var result = GeoJsonWriter.Write(path, map, Classes, analysisToLevel0: 4, maxPolygonsPerClass: parse.GetValue(cap));
                    double seconds = sw.Elapsed.TotalSeconds;
                    double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{name,-12} {seconds,8:0.00} {cpuSeconds,7:0.00} {result.Sum(r => r.Geometry.NumGeometries),9} {result.Sum(r => r.Geometry.NumPoints),10} {result.Sum(r => r.PolygonsDropped),9} {new FileInfo(path).Length / 1048576.0,7:0.0}"));
                    File.Delete(path);
                }
            }
            finally { Directory.Delete(dir, recursive: true); }
            return Task.FromResult(CommandRunner.Ok);
        }));
        return cmd;
    }

    private static (int W, int H) ParseSize(string s)
    {
        var (w, h) = SynthCommand.ParseSize(s);
        return w > 0 && h > 0 && (long)w * h <= 1L << 28 ? (w, h) : throw new UserError($"--size {s}: use WxH, at most 2^28 pixels");
    }
}
