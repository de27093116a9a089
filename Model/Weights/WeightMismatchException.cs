using System.Text;

namespace WsiSegment.Model.Weights;

/// <summary>
/// Weights that do not fit a network: every missing, unexpected and mis-shaped tensor is listed in one message,
/// so a user sees the whole problem (usually the wrong architecture, p, q or class count) at once.
/// </summary>
public sealed class WeightMismatchException : Exception
{
    public WeightMismatchException(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
        IReadOnlyList<string> misshaped, string? hint = null)
        : base(Describe(source, missing, unexpected, misshaped, hint))
    {
        WeightsSource = source;
        Missing = missing;
        Unexpected = unexpected;
        Misshaped = misshaped;
    }

    /// <summary>The file (or other origin) of the weights.</summary>
    public string WeightsSource { get; }
    public IReadOnlyList<string> Missing { get; }
    public IReadOnlyList<string> Unexpected { get; }
    /// <summary>"name: file [a, b] vs network [c, d]" entries.</summary>
    public IReadOnlyList<string> Misshaped { get; }

    private static string Describe(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
        IReadOnlyList<string> misshaped, string? hint)
    {
        var sb = new StringBuilder($"{source}: the weights do not fit the network");
        if (hint is not null) sb.Append(" (").Append(hint).Append(')');
        if (missing.Count > 0) sb.Append($"; {missing.Count} missing: ").Append(Shorten(missing));
        if (unexpected.Count > 0) sb.Append($"; {unexpected.Count} unexpected: ").Append(Shorten(unexpected));
        if (misshaped.Count > 0) sb.Append($"; {misshaped.Count} mis-shaped: ").Append(Shorten(misshaped));
        return sb.ToString();
    }

    private static string Shorten(IReadOnlyList<string> items) =>
        items.Count <= 12 ? string.Join(", ", items) : string.Join(", ", items.Take(12)) + $", … ({items.Count - 12} more)";
}
