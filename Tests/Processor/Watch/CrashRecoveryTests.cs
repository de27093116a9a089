using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using WsiSegment.Processor.Cli;
using WsiSegment.Processor.Watch;

namespace WsiSegment.Tests.Processor.Watch;

/// <summary>Crash counting from the claims: an owner that died mid-attempt counts against the slide; after
/// MaxCrashes the slide goes to failed/ instead of back to the inbox. An owner that died between attempts does not count.</summary>
public class CrashRecoveryTests
{
    private static int DeadPid()
    {
        using var p = Process.Start(new ProcessStartInfo("sleep", "0") { UseShellExecute = false })!;
        p.WaitForExit();
        return p.Id;
    }

    private static void Claim(WatchFixture fx, string slide, bool attemptUnderWay)
    {
        var record = new ClaimRecord(slide, Environment.MachineName, ProcessIdentity.Current.BootId, DeadPid(), 12345, Guid.NewGuid().ToString("N"),
            DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddHours(1), Attempt: 1,
            AttemptStartedUtc: attemptUnderWay ? DateTimeOffset.UtcNow : null, AttemptPid: 777, Stage: "inference");
        Directory.CreateDirectory(fx.Folders.Claims);
        File.WriteAllText(fx.NewClaims().PathOf(slide), JsonSerializer.Serialize(record, JsonOutput.Options));
        File.WriteAllBytes(Path.Combine(fx.Folders.Processing, slide), [1, 2, 3]);
    }

    [Fact]
    public void A_slide_whose_worker_died_in_its_attempts_goes_back_once_then_to_failed_with_the_reason()
    {
        using var fx = new WatchFixture();
        Directory.CreateDirectory(fx.Folders.Processing);
        var ledger = new CrashLedger(fx.Folders.Claims);
        var recovery = new ClaimRecovery(fx.Folders, fx.NewClaims(), fx.NewMover(), NullLogger.Instance, ledger, maxCrashes: 2);

        Claim(fx, "poison.tif", attemptUnderWay: true);
        recovery.Run();
        Assert.True(File.Exists(fx.Inbox("poison.tif")));
        Assert.Single(ledger.Read("poison.tif"));

        File.Delete(fx.Inbox("poison.tif")); // taken again by a worker that dies in its attempt too
        Claim(fx, "poison.tif", attemptUnderWay: true);
        recovery.Run();
        Assert.False(File.Exists(fx.Inbox("poison.tif")));
        Assert.True(File.Exists(Path.Combine(fx.Folders.Failed, "poison.tif")));
        using var error = JsonDocument.Parse(File.ReadAllText(Path.Combine(fx.Folders.Failed, "poison.error.json")));
        Assert.Equal("crash", error.RootElement.GetProperty("kind").GetString());
        Assert.Equal("inference", error.RootElement.GetProperty("stage").GetString());
        Assert.Contains("pid 777", error.RootElement.GetProperty("reason").GetString());
        Assert.Empty(ledger.Read("poison.tif")); // forgotten once the slide has left the inbox
        Assert.Empty(Directory.GetFiles(fx.Folders.Claims));
    }

    [Fact]
    public void An_owner_that_died_between_attempts_is_not_a_crash_of_the_slide()
    {
        using var fx = new WatchFixture();
        Directory.CreateDirectory(fx.Folders.Processing);
        var ledger = new CrashLedger(fx.Folders.Claims);
        Claim(fx, "fine.tif", attemptUnderWay: false);
        new ClaimRecovery(fx.Folders, fx.NewClaims(), fx.NewMover(), NullLogger.Instance, ledger, maxCrashes: 1).Run();
        Assert.True(File.Exists(fx.Inbox("fine.tif")));
        Assert.Empty(ledger.Read("fine.tif"));
    }

    [Fact]
    public void Attempt_fields_are_written_into_the_claim_and_cleared_when_the_attempt_ends()
    {
        using var fx = new WatchFixture();
        var claims = fx.NewClaims();
        var claim = claims.TryClaim("s.tif")!;
        Assert.True(claims.MarkAttempt(claim, 2, 4321, "open"));
        Assert.True(claims.MarkStage(claim, "inference"));
        var written = JsonSerializer.Deserialize<ClaimRecord>(File.ReadAllText(claim.Path), JsonOutput.Options)!;
        Assert.Equal((2, 4321, "inference"), (written.Attempt, written.AttemptPid, written.Stage));
        Assert.NotNull(written.AttemptStartedUtc);
        Assert.True(claims.EndAttempt(claim));
        Assert.Null(JsonSerializer.Deserialize<ClaimRecord>(File.ReadAllText(claim.Path), JsonOutput.Options)!.AttemptStartedUtc);
    }
}
