using System.Globalization;
using System.Text.RegularExpressions;

namespace WsiSegment.Tests.Support;

/// <summary>What Debian's `openslide-show-properties` reports for a file: the third-party truth our reader is checked against.</summary>
public sealed partial class OpenSlideProperties
{
    private readonly Dictionary<string, string> _props;

    private OpenSlideProperties(Dictionary<string, string> props) => _props = props;

    public static OpenSlideProperties Read(string path)
    {
        var tool = Tool.Require("openslide-show-properties", "openslide-tools");
        var r = Tool.Run(tool, [path]);
        if (r.ExitCode != 0) throw new InvalidOperationException($"openslide-show-properties {path} failed: {r.Stderr}");
        var props = new Dictionary<string, string>();
        foreach (Match m in Line().Matches(r.Stdout))
            props[m.Groups[1].Value] = m.Groups[2].Value;
        return new OpenSlideProperties(props);
    }

    public string? this[string key] => _props.GetValueOrDefault(key);

    public double? Number(string key) =>
        _props.TryGetValue(key, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;

    public int LevelCount => (int)(Number("openslide.level-count") ?? 0);

    [GeneratedRegex(@"^([^:\n]+): '(.*)'$", RegexOptions.Multiline)]
    private static partial Regex Line();
}
