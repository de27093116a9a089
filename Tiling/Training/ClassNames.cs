using WsiSegment.Tiling.Labels;
using WsiSegment.Tiling.Phantoms;

namespace WsiSegment.Tiling.Training;

/// <summary>Class names by id: a names file (one name a line, line n = class n; blank lines and # comments skipped) or the default 8.</summary>
public static class ClassNames
{
    public static IReadOnlyList<string> Default => PhantomClasses.Names;

    public static IReadOnlyList<string> Load(string? path)
    {
        if (path is null) return Default;
        if (!File.Exists(path)) throw new LabelFileException(path, "names file not found");
        var names = File.ReadAllLines(path)
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .ToList();
        if (names.Count is 0 or > 256)
            throw new LabelFileException(path, $"names file must list 1..256 class names, one a line (found {names.Count})");
        var dup = names.GroupBy(n => n, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw new LabelFileException(path, $"class name '{dup.Key}' appears twice");
        return names;
    }
}
