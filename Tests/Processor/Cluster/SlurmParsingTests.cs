using WsiSegment.Processor.Cluster;

namespace WsiSegment.Tests.Processor.Cluster;

/// <summary>What squeue --json (Slurm 22.05, as the test cluster prints it) and a job's environment are read as.</summary>
public class SlurmParsingTests
{
    // Trimmed from `squeue --json` of slurm-wlm 22.05.8: two running tasks, a pending range, and another job.
    private const string Squeue = """
        {"meta": {"Slurm": {"release": "22.05.8"}}, "errors": [], "jobs": [
          {"job_id": 6, "array_job_id": 5, "array_task_id": 0, "array_task_string": "", "job_state": "RUNNING", "state_reason": "None", "restart_cnt": 0, "nodes": "n1", "batch_host": "n1", "exit_code": 0},
          {"job_id": 7, "array_job_id": 5, "array_task_id": 1, "array_task_string": "", "job_state": "COMPLETED", "state_reason": "None", "restart_cnt": 2, "nodes": "n2", "batch_host": "n2", "exit_code": 0},
          {"job_id": 5, "array_job_id": 5, "array_task_id": null, "array_task_string": "2-4,7%2", "job_state": "PENDING", "state_reason": "JobArrayTaskLimit", "restart_cnt": 0, "nodes": "", "batch_host": "", "exit_code": 0},
          {"job_id": 9, "array_job_id": 0, "array_task_id": null, "array_task_string": "", "job_state": "PENDING", "state_reason": "BeginTime", "restart_cnt": 1, "nodes": "", "batch_host": "", "exit_code": 0}
        ]}
        """;

    [Fact]
    public void Array_tasks_and_pending_ranges_are_read_per_task()
    {
        var tasks = SlurmClient.ParseJobs(Squeue, "5");
        Assert.Equal([0, 1, 2, 3, 4, 7], tasks.Select(t => t.TaskId!.Value).Order());
        var running = tasks.Single(t => t.TaskId == 0);
        Assert.Equal(("RUNNING", "n1", 0, (string?)null), (running.State, running.Node, running.RestartCount, running.Reason));
        Assert.True(running.IsActive);
        var done = tasks.Single(t => t.TaskId == 1);
        Assert.Equal(2, done.RestartCount);
        Assert.False(done.IsActive);
        Assert.All(tasks.Where(t => t.TaskId >= 2), t => Assert.Equal(("PENDING", "JobArrayTaskLimit"), (t.State, t.Reason)));
    }

    [Fact]
    public void A_plain_job_is_found_by_its_own_id()
    {
        var t = Assert.Single(SlurmClient.ParseJobs(Squeue, "9"));
        Assert.Equal(("PENDING", "BeginTime", 1, (int?)null), (t.State, t.Reason, t.RestartCount, t.TaskId));
        Assert.Empty(SlurmClient.ParseJobs(Squeue, "6")); // a task's own id is not its array's
    }

    [Fact]
    public void The_environment_of_a_task_is_recorded_and_absent_outside_Slurm()
    {
        var env = new Dictionary<string, string>
        {
            ["SLURM_JOB_ID"] = "13", ["SLURM_ARRAY_JOB_ID"] = "11", ["SLURM_ARRAY_TASK_ID"] = "1", ["SLURMD_NODENAME"] = "n2",
            ["SLURM_RESTART_COUNT"] = "2", ["SLURM_CPUS_PER_TASK"] = "4", ["CUDA_VISIBLE_DEVICES"] = "1",
        };
        var s = SlurmEnvironment.From(k => env.GetValueOrDefault(k))!;
        Assert.Equal(new SlurmEnvironment("13", "11", 1, "n2", 2, 4, "1"), s);
        Assert.Null(SlurmEnvironment.From(_ => null));
    }
}
