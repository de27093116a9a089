using System.CommandLine;
using System.Globalization;

namespace WsiSegment.Processor.Cli;

/// <summary>
/// Command-line options declared once against the properties of an options record: each option is bound to one
/// property (its configuration key is the property's name, its default the record's), and from that one declaration
/// the set adds the options to a command, reads the record from a parse, maps the options the user gave onto
/// configuration keys (the watch service's host) and turns a record back into arguments (a child process).
/// </summary>
public abstract class OptionSet<TRecord> where TRecord : new()
{
    private readonly List<Binding> _bindings = [];

    /// <summary>The record every property default comes from.</summary>
    protected static readonly TRecord Defaults = new();

    public IEnumerable<Option> Options => _bindings.Select(b => b.Option);

    /// <summary>Binds <paramref name="option"/> to the property <paramref name="key"/> (pass <c>nameof</c>):
    /// <paramref name="get"/> reads the option's value from a record, <paramref name="set"/> puts it in; a flag that
    /// negates its property (--no-x) gives <paramref name="toProperty"/>. The option's default is the record's.</summary>
    protected Option<T> Bind<T>(Option<T> option, string key, Func<TRecord, T> get, Func<TRecord, T, TRecord> set, Func<T, object?>? toProperty = null)
    {
        T fallback = get(Defaults);
        // Flags, optional values and lists keep System.CommandLine's own "not given" (no default shown in the help).
        bool ownDefault = typeof(T) == typeof(bool) || fallback is null || fallback is System.Collections.IEnumerable and not string;
        if (!ownDefault) option.DefaultValueFactory = _ => fallback;
        _bindings.Add(new Binding<T>(option, key, get, set, toProperty ?? (v => v)));
        return option;
    }

    public void AddTo(Command command)
    {
        foreach (var b in _bindings) command.Options.Add(b.Option);
    }

    /// <summary>The record with every bound option's value (defaults where not given); not validated.</summary>
    public TRecord ReadUnvalidated(ParseResult parse)
    {
        var record = new TRecord();
        foreach (var b in _bindings) record = b.Read(parse, record);
        return record;
    }

    /// <summary>The options the user gave, as configuration keys <paramref name="section"/>:PROPERTY (options not
    /// given are left out, so other configuration sources stay in charge of them).</summary>
    public void MapGiven(ParseResult parse, string section, IDictionary<string, string?> values)
    {
        foreach (var b in _bindings) b.MapGiven(parse, section, values);
    }

    /// <summary>The arguments that give <paramref name="record"/> to a command with these options (those at their
    /// default are left out).</summary>
    public List<string> ToArgs(TRecord record)
    {
        var args = new List<string>();
        foreach (var b in _bindings) b.AddArgs(record, args);
        return args;
    }

    private abstract class Binding
    {
        public abstract Option Option { get; }
        public abstract TRecord Read(ParseResult parse, TRecord record);
        public abstract void MapGiven(ParseResult parse, string section, IDictionary<string, string?> values);
        public abstract void AddArgs(TRecord record, List<string> args);
    }

    private sealed class Binding<T>(Option<T> option, string key, Func<TRecord, T> get, Func<TRecord, T, TRecord> set, Func<T, object?> toProperty) : Binding
    {
        public override Option Option => option;

        public override TRecord Read(ParseResult parse, TRecord record) => set(record, parse.GetValue(option)!);

        public override void MapGiven(ParseResult parse, string section, IDictionary<string, string?> values)
        {
            if (parse.GetResult(option) is not { Implicit: false }) return;
            object? property = toProperty(parse.GetValue(option)!);
            if (property is not string && property is IEnumerable<string> list)
            {
                int i = 0;
                foreach (var item in list) values[$"{section}:{key}:{i++}"] = item;
            }
            else
                values[$"{section}:{key}"] = OptionValues.Format(property) ?? "";
        }

        public override void AddArgs(TRecord record, List<string> args)
        {
            T value = get(record), fallback = get(Defaults);
            switch (value)
            {
                case bool flag:
                    if (flag) args.Add(option.Name);
                    break;
                case string:
                    goto default;
                case IEnumerable<string> list:
                    foreach (var item in list) args.AddRange([option.Name, item]);
                    break;
                default:
                    if (value is null || EqualityComparer<T>.Default.Equals(value, fallback)) return;
                    args.AddRange([option.Name, value is Enum e ? e.ToString().ToLowerInvariant() : OptionValues.Format(value)!]);
                    break;
            }
        }
    }
}

/// <summary>How option values are written as configuration values and arguments.</summary>
public static class OptionValues
{
    /// <summary>Invariant culture, round-trip doubles, lower-case booleans.</summary>
    public static string? Format(object? value) => value switch
    {
        null => null,
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
