using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Watch;

namespace WsiSegment.Tests.Processor.Watch;

public class ClaimStoreTests
{
    [Fact]
    public async Task Two_claim_stores_racing_for_20_slides_take_each_exactly_once()
    {
        using var fx = new WatchFixture();
        var names = Enumerable.Range(0, 20).Select(i => $"slide{i:00}.tif").ToList();
        foreach (var n in names) File.WriteAllBytes(fx.Inbox(n), [1, 2, 3]);

        var takenBy = new ConcurrentBag<(string Slide, int Worker)>();
        using var start = new ManualResetEventSlim();
        var workers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            var claims = fx.NewClaims();
            var mover = fx.NewMover();
            start.Wait();
            // Each worker walks the list in its own order, as two scans would.
            foreach (var n in w == 0 ? names : Enumerable.Reverse(names))
            {
                var claim = claims.TryClaim(n);
                if (claim is null) continue;
                if (mover.TakeIntoProcessing(SlideUnit.For(n)))
                {
                    takenBy.Add((n, w));
                    File.Move(Path.Combine(fx.Folders.Processing, n), Path.Combine(fx.Folders.Done, n));
                }
                claims.Release(claim);
            }
        })).ToArray();
        start.Set();
        await Task.WhenAll(workers);

        Assert.Equal(names, takenBy.Select(t => t.Slide).Order());
        Assert.Equal(20, Directory.GetFiles(fx.Folders.Done).Length);
        Assert.Empty(Directory.GetFiles(fx.Folders.Claims));
        Assert.Empty(Directory.GetFiles(fx.Folders.Inbox));
    }

    [Fact]
    public void Claim_records_owner_and_lease_and_blocks_a_second_claim_until_released()
    {
        using var fx = new WatchFixture();
        var a = fx.NewClaims();
        var b = fx.NewClaims();
        var claim = a.TryClaim("x.svs");
        Assert.NotNull(claim);
        Assert.Null(b.TryClaim("x.svs"));

        var record = JsonSerializer.Deserialize<ClaimRecord>(File.ReadAllText(a.PathOf("x.svs")), JsonOutput.Options)!;
        Assert.Equal(Environment.MachineName, record.Host);
        Assert.Equal(Environment.ProcessId, record.Pid);
        Assert.True(record.LeaseUntilUtc > DateTimeOffset.UtcNow);
        Assert.True(b.IsHeld("x.svs"));
        Assert.Empty(b.FindStale());

        var before = claim!.Record.LeaseUntilUtc;
        Thread.Sleep(20);
        Assert.True(a.Renew(claim));
        Assert.True(claim.Record.LeaseUntilUtc > before);

        b.Release(new Claim(claim.Path, claim.Record with { Token = "someone-else" })); // not b's: stays
        Assert.True(File.Exists(a.PathOf("x.svs")));
        a.Release(claim);
        Assert.NotNull(b.TryClaim("x.svs"));
    }

    [Fact]
    public void Claim_of_a_dead_process_on_this_host_is_taken_back_and_its_slide_returned()
    {
        using var fx = new WatchFixture();
        using var p = Process.Start(new ProcessStartInfo("sleep", "0") { UseShellExecute = false })!;
        p.WaitForExit();
        var dead = new ClaimRecord("gone.tif", Environment.MachineName, ProcessIdentity.Current.BootId, p.Id, 12345, "t1",
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(1));
        WriteClaim(fx, dead);
        File.WriteAllBytes(Path.Combine(fx.Folders.Processing, "gone.tif"), [1]);

        var claims = fx.NewClaims();
        var stale = Assert.Single(claims.FindStale());
        Assert.Contains($"pid {p.Id}", stale.Why);
        int n = new ClaimRecovery(fx.Folders, claims, fx.NewMover(), NullLogger.Instance).Run();

        Assert.Equal(1, n);
        Assert.True(File.Exists(fx.Inbox("gone.tif")));
        Assert.False(File.Exists(Path.Combine(fx.Folders.Processing, "gone.tif")));
        Assert.Empty(Directory.GetFiles(fx.Folders.Claims));
    }

    [Fact]
    public void Claim_with_an_expired_lease_from_another_host_is_taken_back_but_a_live_one_is_not()
    {
        using var fx = new WatchFixture();
        WriteClaim(fx, new ClaimRecord("old.tif", "other-host", "boot", 4242, 1, "t1", DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddMinutes(-1)));
        WriteClaim(fx, new ClaimRecord("busy.tif", "other-host", "boot", 4242, 1, "t2", DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddMinutes(1)));
        File.WriteAllBytes(Path.Combine(fx.Folders.Processing, "old.tif"), [1]);
        File.WriteAllBytes(Path.Combine(fx.Folders.Processing, "busy.tif"), [1]);

        var claims = fx.NewClaims();
        new ClaimRecovery(fx.Folders, claims, fx.NewMover(), NullLogger.Instance).Run();

        Assert.True(File.Exists(fx.Inbox("old.tif")));
        Assert.True(File.Exists(Path.Combine(fx.Folders.Processing, "busy.tif")));
        Assert.Equal(["busy.tif.claim"], Directory.GetFiles(fx.Folders.Claims).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Only_one_of_several_recoverers_takes_a_stale_claim_and_the_old_owner_learns_it_lost()
    {
        using var fx = new WatchFixture(lease: TimeSpan.FromSeconds(4));
        var owner = fx.NewClaims();
        var mine = owner.TryClaim("s.tif")!;
        // The owner (on another host) stopped renewing: its lease ran out.
        var hung = mine.Record with { Host = "other-host", LeaseUntilUtc = DateTimeOffset.UtcNow.AddSeconds(-1) };
        File.WriteAllText(mine.Path, JsonSerializer.Serialize(hung, JsonOutput.Options));
        var claim = new Claim(mine.Path, hung);

        var wins = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            var store = fx.NewClaims();
            return store.FindStale().Count(store.TryTakeOver);
        })));
        Assert.Equal(1, wins.Sum());
        Assert.False(owner.Renew(claim));
    }

    [Fact]
    public void Slide_in_processing_without_any_claim_is_returned_to_the_inbox()
    {
        using var fx = new WatchFixture();
        File.WriteAllBytes(Path.Combine(fx.Folders.Processing, "orphan.tif"), [1]);
        File.WriteAllBytes(Path.Combine(fx.Folders.Processing, "claimed.tif"), [1]);
        var claims = fx.NewClaims();
        Assert.NotNull(claims.TryClaim("claimed.tif"));
        new ClaimRecovery(fx.Folders, claims, fx.NewMover(), NullLogger.Instance).Run();
        Assert.True(File.Exists(fx.Inbox("orphan.tif")));
        Assert.True(File.Exists(Path.Combine(fx.Folders.Processing, "claimed.tif")));
    }

    [Fact]
    public void Staging_folder_of_a_dead_process_is_swept_but_not_one_of_a_live_claim()
    {
        using var fx = new WatchFixture();
        using var p = Process.Start(new ProcessStartInfo("sleep", "0") { UseShellExecute = false })!;
        p.WaitForExit();
        string deadStaging = Path.Combine(fx.Folders.Outbox, "a", $".staging-a-{p.Id}-0123abcd");
        string liveStaging = Path.Combine(fx.Folders.Outbox, "b", $".staging-b-{p.Id}-0123abcd");
        Directory.CreateDirectory(deadStaging);
        Directory.CreateDirectory(liveStaging);
        var claims = fx.NewClaims();
        claims.TryClaim("b.tif"); // e.g. a worker on another host still writing b's outputs
        new ClaimRecovery(fx.Folders, claims, fx.NewMover(), NullLogger.Instance).Run();
        Assert.False(Directory.Exists(deadStaging));
        Assert.True(Directory.Exists(liveStaging));
    }

    private static void WriteClaim(WatchFixture fx, ClaimRecord r) =>
        File.WriteAllText(Path.Combine(fx.Folders.Claims, r.Slide + ".claim"), JsonSerializer.Serialize(r, JsonOutput.Options));
}
