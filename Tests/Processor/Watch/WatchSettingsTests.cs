using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using WsiSegment.Processor.Commands;
using WsiSegment.Processor.Watch;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Watch;

[Collection("watch-host")]
public class WatchSettingsTests
{
    [Fact]
    public void Settings_file_then_environment_then_command_line_later_wins()
    {
        using var dir = new TempDir("settings");
        string file = dir.File("watch.json");
        File.WriteAllText(file, """{ "Watch": { "Inbox": "/from/file/in", "Outbox": "/from/file/out", "StableSeconds": 5, "GraceSeconds": 9, "MaxAttempts": 4 } }""");
        Environment.SetEnvironmentVariable("WSISEGMENT_Watch__GraceSeconds", "7");
        Environment.SetEnvironmentVariable("WSISEGMENT_Watch__StableSeconds", "6");
        try
        {
            using var host = WatchHost.CreateBuilder(new Dictionary<string, string?> { ["Watch:StableSeconds"] = "3" },
                _ => new ReadingJob(TimeSpan.Zero), settingsFile: file).Build();
            var o = host.Services.GetRequiredService<IOptions<WatchOptions>>().Value;
            Assert.Equal("/from/file/in", o.Inbox);           // file only
            Assert.Equal(4, o.MaxAttempts);                   // file only
            Assert.Equal(7, o.GraceSeconds);                  // environment over file
            Assert.Equal(3, o.StableSeconds);                 // command line over environment and file
            Assert.Equal(120, o.LeaseSeconds);                // default
            Assert.Equal("/from/file/in/done", o.DoneDirectory);
            // The host waits longer than the grace period before giving up on stopping.
            Assert.Equal(TimeSpan.FromSeconds(7 + WatchHost.ShutdownMarginSeconds), host.Services.GetRequiredService<IOptions<HostOptions>>().Value.ShutdownTimeout);
        }
        finally
        {
            Environment.SetEnvironmentVariable("WSISEGMENT_Watch__GraceSeconds", null);
            Environment.SetEnvironmentVariable("WSISEGMENT_Watch__StableSeconds", null);
        }
    }

    [Fact]
    public void Sample_appsettings_binds_and_its_values_are_valid()
    {
        string sample = Path.Combine(Repo.Root, "Processor", "appsettings.json");
        using var host = WatchHost.CreateBuilder(new Dictionary<string, string?> { ["Watch:Inbox"] = "/in", ["Watch:Outbox"] = "/out" },
            _ => new ReadingJob(TimeSpan.Zero), settingsFile: sample).Build();
        var o = host.Services.GetRequiredService<IOptions<WatchOptions>>().Value;
        Assert.True(new WatchOptionsValidator().Validate(null, o).Succeeded);
        Assert.Equal(15, o.StableSeconds);
    }

    [Fact]
    public void Watch_options_given_on_the_command_line_become_the_keys_the_host_binds_and_the_rest_keep_their_defaults()
    {
        var set = new WatchOptionSet();
        var cmd = new Command("watch");
        set.AddTo(cmd);
        Assert.Equal(15, set.ReadUnvalidated(cmd.Parse([])).StableSeconds); // the option's default is the record's
        var values = new Dictionary<string, string?>();
        set.MapGiven(cmd.Parse(["--inbox", "/in", "--outbox", "/out", "--stable-seconds", "2.5", "--max-crashes", "4", "--isolation", "none", "--leave-in-place"]),
            WatchOptions.Section, values);
        Assert.Equal(["Watch:Inbox", "Watch:Isolation", "Watch:LeaveInPlace", "Watch:MaxCrashes", "Watch:Outbox", "Watch:StableSeconds"], values.Keys.Order());

        using var host = WatchHost.CreateBuilder(values, _ => new ReadingJob(TimeSpan.Zero)).Build();
        var o = host.Services.GetRequiredService<IOptions<WatchOptions>>().Value;
        Assert.Equal(("/in", "/out", 2.5, 4, "none", true), (o.Inbox, o.Outbox, o.StableSeconds, o.MaxCrashes, o.Isolation, o.LeaveInPlace));
        Assert.Equal((120.0, 3, 60.0), (o.LeaseSeconds, o.MaxAttempts, o.GraceSeconds));
    }
}
