namespace Conveyor.Bench;

/// <summary>
/// The system doing nothing: started, settled, nothing placed. Its CPU over <c>--duration</c> and each process's
/// resident memory at the end (VmRSS), from /proc. Polling, heartbeats and timers are all it pays for.
/// </summary>
public static class IdleRun
{
    public sealed record IdleResult(double Seconds, double SystemCpuPercentOfOneCore, IReadOnlyList<IdleProcess> Processes);

    public sealed record IdleProcess(string Name, double CpuPercentOfOneCore, double ResidentMb, bool PartOfSystem);

    /// <summary>Not part of the system's idle cost: the bench itself and the development identity provider (Keycloak in deployment).</summary>
    private static bool PartOfSystem(string name) => name != ProcessGroup.BenchProcess && name != Topology.SystemTopology.IdentityProvider.Name;

    public static async Task<int> RunAsync(BenchOptions options)
    {
        var groups = ProcessGroup.Discover(Path.Combine(".artifacts", "run"));
        Console.WriteLine($"[idle] settling for {options.Warmup.TotalSeconds:0} s, then measuring for {options.Duration.TotalSeconds:0} s with nothing placed");
        await Task.Delay(options.Warmup); // the start-up's own work (JIT, migrations, first polls) is not idling
        var meter = ProcessUsageMeter.Start(groups);
        await Task.Delay(options.Duration); // the measured window: nothing is asked of the system
        var usage = meter(options.Duration);
        var processes = usage.Processes.Select(p => new IdleProcess(p.Name, p.CpuPercentOfOneCore, Math.Round(groups.Single(g => g.Name == p.Name).ResidentMemoryMb(), 1), PartOfSystem(p.Name))).ToList();
        var result = new IdleResult(options.Duration.TotalSeconds, Math.Round(processes.Where(p => p.PartOfSystem).Sum(p => p.CpuPercentOfOneCore), 1), processes);
        File.WriteAllText(Path.Combine(options.Output, "idle.json"), System.Text.Json.JsonSerializer.Serialize(result, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web) { WriteIndented = true }));
        Console.WriteLine($"[idle] the system used {result.SystemCpuPercentOfOneCore} % of one core; resident: {string.Join(", ", processes.Select(p => $"{p.Name} {p.ResidentMb} MB"))}");
        return 0;
    }
}
