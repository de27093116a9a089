using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Watch;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Processor.Watch;

/// <summary>The optional executor job in a claim (watch --executor slurm): recorded in the owner's claim, kept by renewals.</summary>
public class ClaimExecutorJobTests
{
    [Fact]
    public void An_executor_job_recorded_in_a_claim_survives_renewal_and_only_the_owner_records_one()
    {
        using var dir = new TempDir("claims");
        var store = new ClaimStore(dir.Path, TimeSpan.FromMinutes(2), NullLogger.Instance);
        var claim = store.TryClaim("a.tif")!;
        Assert.True(store.RecordExecutorJob("a.tif", "slurm:42"));
        Assert.True(store.Renew(claim));
        var onDisk = JsonSerializer.Deserialize<ClaimRecord>(File.ReadAllText(store.PathOf("a.tif")), JsonOutput.Options)!;
        Assert.Equal("slurm:42", onDisk.ExecutorJob);
        Assert.Equal(claim.Record.Token, onDisk.Token);
        Assert.True(onDisk.LeaseUntilUtc > DateTimeOffset.UtcNow);

        Assert.False(store.RecordExecutorJob("nobody-claimed.tif", "slurm:43"));
        // A claim held by another process is left alone.
        File.WriteAllText(store.PathOf("b.tif"), JsonSerializer.Serialize(onDisk with { Slide = "b.tif", Pid = 1, ExecutorJob = null }, JsonOutput.Options));
        Assert.False(store.RecordExecutorJob("b.tif", "slurm:44"));
        Assert.Null(JsonSerializer.Deserialize<ClaimRecord>(File.ReadAllText(store.PathOf("b.tif")), JsonOutput.Options)!.ExecutorJob);
    }
}
