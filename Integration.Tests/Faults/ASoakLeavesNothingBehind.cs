using System.Diagnostics;
using Conveyor.Topology;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;

namespace Integration.Tests.Faults;

/// <summary>
/// Orders at a steady rate, about half of what the system sustains here, for a long while (20 minutes in
/// <c>./build.sh chaos</c>): every order must end confirmed with one payment and one e-mail, and nothing may
/// pile up — inbox and outbox rows, dead letters, ServiceControl's tables, the processes' memory — beyond what
/// the retention rules keep.
/// </summary>
[Category(ChaosOnly)]
public class ASoakLeavesNothingBehind : FaultFixture
{
    private static readonly string[] WolverineTables =
        ["wolverine.wolverine_incoming_envelopes", "wolverine.wolverine_outgoing_envelopes", "wolverine.wolverine_dead_letters", "wolverine.wolverine_node_records"];

    /// <summary>Inventory's own (Endpoints/Inventory/migrations): the inbox keeps 5 minutes of ids, as Wolverine's does; the others empty as they go.</summary>
    private static readonly string[] NodeEndpointTables = ["inbox", "outbox", "delayed_retries"];

    private static readonly string[] ServiceControlTables = ["failed_messages", "failures", "endpoint_instances", "audit_log"];

    private sealed record Snapshot(TimeSpan At, Dictionary<string, long> Rows, Dictionary<string, long> MemoryMegabytes);

    [Test]
    public async Task Half_the_sustained_rate_for_a_long_while_piles_nothing_up()
    {
        var rate = ChaosSettings.SoakRate;
        var duration = ChaosSettings.SoakDuration;
        var result = new ScenarioResult
        {
            Scenario = "soak",
            Fault = $"No fault: {rate:0.#} orders/s for {duration.TotalMinutes:0.#} min in an open loop (an order every {1000 / rate:0} ms, whether or not the earlier ones are through).",
        };
        var clock = Stopwatch.StartNew();
        var samples = new List<Snapshot> { await SnapshotAsync(clock.Elapsed) };

        var load = OrderBurst.StartPaced(api => Tokens.ClientAs("alice", api), OrderApis, "tok_ok", rate, duration);
        while (!load.Completion.IsCompleted)
        {
            await Task.WhenAny(load.Completion, Task.Delay(TimeSpan.FromMinutes(1)));
            samples.Add(await SnapshotAsync(clock.Elapsed));
        }

        await load.Completion;
        await SettleAsync(result, load.Placed, Stopwatch.StartNew());
        await EvaluateAsync(result, load, Expectation.ConfirmedAndMailed, duplicateEmailReason: null);
        // The last orders' payment deadlines fire for a while after they settled, each sending its audit copy through
        // the outbox, and heartbeats go the same way: what must hold is that the outboxes drain, not that they are
        // empty at one instant.
        var end = await DrainedSnapshotAsync(clock, Deadline + TimeSpan.FromSeconds(30));
        samples.Add(end);

        var start = samples[0];
        var middle = samples.MinBy(s => Math.Abs((s.At - duration / 2).TotalSeconds))!;
        result.Tables["Rows at the start, halfway and at the end"] = Table("table", start.Rows, middle.Rows, end.Rows);
        result.Tables["Resident memory (MB) at the start, halfway and at the end"] = Table("process", start.MemoryMegabytes, middle.MemoryMegabytes, end.MemoryMegabytes);
        result.Details["samples"] = samples.Select(s => new { at = s.At.ToString(@"mm\:ss"), rows = s.Rows, memoryMegabytes = s.MemoryMegabytes }).ToList();

        foreach (var (table, rows) in Leftovers(end))
        {
            result.Problems.Add($"{table} holds {rows} rows at the end");
        }

        // Handled inbox rows are kept for 5 minutes, node records for longer: from the second half on, a table in
        // steady state stops growing, and memory with it. Shorter soaks are reported, not judged on growth.
        if (duration >= TimeSpan.FromMinutes(12))
        {
            foreach (var (table, rows) in end.Rows.Where(r => r.Value > 1.25 * Math.Max(middle.Rows.GetValueOrDefault(r.Key), 100)))
            {
                result.Problems.Add($"{table} grew from {middle.Rows[table]} rows halfway to {rows} at the end");
            }

            foreach (var (process, megabytes) in end.MemoryMegabytes.Where(m => m.Value > 1.5 * middle.MemoryMegabytes.GetValueOrDefault(m.Key, long.MaxValue / 2)))
            {
                result.Problems.Add($"{process} grew from {middle.MemoryMegabytes[process]} MB halfway to {megabytes} MB at the end");
            }
        }

        ChaosReport.Add(result);
        result.AssertPassed();
    }

    /// <summary>Rows that must not stay: messages not yet sent, dead letters, failures.</summary>
    private static List<KeyValuePair<string, long>> Leftovers(Snapshot snapshot) =>
        snapshot.Rows.Where(r => r.Value > 0 && (r.Key.EndsWith("wolverine_dead_letters") || r.Key.EndsWith("wolverine_outgoing_envelopes") || r.Key.EndsWith("failed_messages"))).ToList();

    /// <summary>A snapshot once nothing is left over, or the last one taken when <paramref name="patience"/> runs out.</summary>
    private async Task<Snapshot> DrainedSnapshotAsync(Stopwatch clock, TimeSpan patience)
    {
        var giveUpAt = clock.Elapsed + patience;
        while (true)
        {
            var snapshot = await SnapshotAsync(clock.Elapsed);
            if (Leftovers(snapshot).Count == 0 || clock.Elapsed >= giveUpAt) return snapshot;
            await Task.Delay(TimeSpan.FromSeconds(1));
        }
    }

    private static List<string[]> Table(string what, Dictionary<string, long> start, Dictionary<string, long> middle, Dictionary<string, long> end) =>
        [[what, "start", "halfway", "end"], .. end.Keys.Select(k => new[] { k, $"{start.GetValueOrDefault(k)}", $"{middle.GetValueOrDefault(k)}", $"{end[k]}" })];

    private async Task<Snapshot> SnapshotAsync(TimeSpan at)
    {
        var rows = new Dictionary<string, long>();
        foreach (var endpoint in SystemTopology.Endpoints)
        {
            var database = SystemDatabases.ConnectionTo(endpoint);
            foreach (var table in endpoint.Runtime == Runtime.Node ? NodeEndpointTables : WolverineTables)
            {
                rows[$"{endpoint.Name}: {table}"] = await Sql.ScalarAsync<long>(database, $"select count(*) from {table}");
            }
        }

        foreach (var table in ServiceControlTables) rows[$"servicecontrol: {table}"] = await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, $"select count(*) from {table}");
        var memory = System.Processes.ToDictionary(p => System.NameOf(p), p => ResidentMegabytes(p.Id));
        return new Snapshot(at, rows, memory);
    }

    private static long ResidentMegabytes(int pid)
    {
        // VmRSS:    412345 kB
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024;
    }
}
