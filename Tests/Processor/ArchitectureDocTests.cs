using System.Reflection;
using System.Text.RegularExpressions;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor;

/// <summary>docs/ARCHITECTURE.md names types; each must exist in our assemblies, so the page cannot drift from the code unnoticed.</summary>
public class ArchitectureDocTests
{
    /// <summary>Words in backticks that are not types: projects, members, placeholders, TorchSharp's scope.</summary>
    private static readonly HashSet<string> NotTypes = ["Core", "Tiling", "Model", "Stitching", "Processor", "STEM", "Bind", "Dispose", "DisposeScope", "Verify"];

    [Fact]
    public void Every_type_the_architecture_page_names_exists()
    {
        string doc = File.ReadAllText(Path.Combine(Repo.Root, "docs", "ARCHITECTURE.md"));
        var named = Regex.Matches(doc, @"`([A-Z][A-Za-z0-9]*)").Select(m => m.Groups[1].Value).Where(n => !NotTypes.Contains(n)).ToHashSet();
        Assert.True(named.Count > 40, $"only {named.Count} types named: the pattern no longer matches the page");

        var assemblies = new[] { "WsiSegment.Core", "WsiSegment.Tiling", "WsiSegment.Model", "WsiSegment.Stitching", "wsi-segment" }.Select(Assembly.Load);
        var types = assemblies.SelectMany(a => a.GetTypes()).Select(t => t.Name.Split('`')[0]).ToHashSet();
        var missing = named.Where(n => !types.Contains(n)).Order().ToList();
        Assert.True(missing.Count == 0, "docs/ARCHITECTURE.md names types that do not exist: " + string.Join(", ", missing));
    }
}
