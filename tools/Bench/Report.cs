using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Conveyor.Bench;

/// <summary>The phases' results as one Markdown summary (printed and written), one JSON file and two charts.</summary>
public static class Report
{
    public static int Write(BenchOptions options)
    {
        var runs = PhaseResult.ReadAll(options.Output);
        // Each phase's runs, and the run with its median throughput, which stands for the phase in every other column.
        var phases = runs.GroupBy(r => r.Label).Select(g => new Summary(g.Key, [.. g.OrderBy(r => r.CompletedPerSecond)])).OrderBy(p => Order(p.Median)).ToList();
        var one = phases.FirstOrDefault(p => p.Label == "system-x1") ?? throw new BenchFailedException($"no system-x1 run in {options.Output}: run the system phase first");
        var baseline = phases.FirstOrDefault(p => p.Label == "baseline");
        var auditOff = phases.FirstOrDefault(p => p.Label == AuditOffLabel);
        var scaled = phases.Where(p => p.Median.Kind == "system" && p.Median.Instances > 1).MinBy(p => p.Median.Instances);
        double? Ratio(Summary? a, Summary? b) => a is null || b is null ? null : Math.Round(a.Median.CompletedPerSecond / b.Median.CompletedPerSecond, 2);

        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"## Conveyor benchmark — {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {one.Median.Load}");
        md.AppendLine();
        md.AppendLine("Orders per second from the first send to the last confirmation e-mail at the bench's SMTP sink: the median of the runs, their range beside it; every other column is the median run's.");
        md.AppendLine();
        md.AppendLine("| phase | runs | orders/s (range) | send→e-mail p50 / p99 ms | place→Confirmed p50 / p99 ms | CPU ms per order (side / machine) | orders per CPU-second | machine busy % (steal) | warm-up s / JIT methods per s | duplicate e-mails |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var phase in phases)
        {
            var m = phase.Median;
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {Describe(m)} | {phase.Runs.Count} | **{m.CompletedPerSecond}** ({phase.Runs[0].CompletedPerSecond}–{phase.Runs[^1].CompletedPerSecond}) | {m.SendToEmail.P50Ms} / {m.SendToEmail.P99Ms} | {m.PlaceToConfirmed.P50Ms} / {m.PlaceToConfirmed.P99Ms} | {m.SystemCpuMsPerOrder} / {m.MachineCpuMsPerOrder} | {m.OrdersPerCpuSecond} | {m.Machine.BusyPercent} ({m.Machine.StealPercent}) | {m.WarmupSeconds} / {m.JitMethodsPerSecond} | {phase.Runs.Sum(r => r.DuplicateEmails)} |");
        }

        md.AppendLine();
        md.AppendLine("CPU per order: every process of the side — for the system all but the bench's own (the client and the SMTP sink), for the baselines the bench's too (their pipeline runs in it) — over the measured window and until its last e-mail; the machine's busy share includes the client and steal. Warm-up: load until throughput stopped rising; JIT: methods compiled per second during the measured window (the .NET endpoints' own count; for the baselines the bench process's).");
        md.AppendLine();
        if (Ratio(one, baseline) is { } r) md.AppendLine(CultureInfo.InvariantCulture, $"- **system / equal-work baseline: {r}** (auditing on; the baseline audits nothing)");
        if (Ratio(auditOff, baseline) is { } ra) md.AppendLine(CultureInfo.InvariantCulture, $"- **system, auditing off / equal-work baseline: {ra}**");
        if (Ratio(one, auditOff) is { } a) md.AppendLine(CultureInfo.InvariantCulture, $"- auditing on / off: {a}");
        if (scaled is not null && Ratio(scaled, one) is { } s)
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"- scale-out, {scaled.Median.Instances} instances / one: {s}, on the same {Environment.ProcessorCount} cores: the machine had no spare core for the second instances (one instance already kept it {one.Median.Machine.BusyPercent} % busy), so this shows the cost of competing consumers, not scaling; orders per CPU-second {scaled.Median.OrdersPerCpuSecond} against {one.Median.OrdersPerCpuSecond}");
        }

        md.AppendLine();
        md.AppendLine("| process (system, one instance, median run) | CPU s | % of one core | CPU ms per order | peak memory MB (VmHWM, summed) |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: |");
        foreach (var process in one.Median.Processes.OrderByDescending(p => p.CpuSeconds))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {process.Name} | {process.CpuSeconds} | {process.CpuPercentOfOneCore} | {Math.Round(1000 * process.CpuSeconds / Math.Max(1, one.Median.Orders), 1)} | {process.PeakMemoryMb} |");
        }

        var ramps = Directory.GetFiles(options.Output, "*.ramp.json").Order()
            .Select(f => JsonSerializer.Deserialize<Phase.RampResult>(File.ReadAllText(f), new JsonSerializerOptions(JsonSerializerDefaults.Web))!).ToList();
        md.AppendLine();
        if (ramps.Count == 0) md.AppendLine("Open-loop ramp: not run (`--quick`).");
        foreach (var ramp in ramps)
        {
            var steps = string.Join(", ", ramp.Steps.Select(s => FormattableString.Invariant($"{s.Rate}/s → p99 {s.SendToEmail.P99Ms} ms{(s.Failed > 0 ? $" ({s.Failed} lost)" : "")}")));
            md.AppendLine(ramp.HighestHeld is { } held
                ? FormattableString.Invariant($"- open-loop ramp, **{ramp.Label}**: highest rate held with p99 send→e-mail under {ramp.P99TargetMs} ms **{held} orders/s**; at half of it ({Math.Round(held / 2, 1)}/s) p50 / p99 {ramp.AtHalfTheHighest!.P50Ms} / {ramp.AtHalfTheHighest.P99Ms} ms. Steps: {steps}")
                : FormattableString.Invariant($"- open-loop ramp, **{ramp.Label}**: no rate held with p99 send→e-mail under {ramp.P99TargetMs} ms. Steps: {steps}"));
        }

        if (!File.Exists(Path.Combine(options.Output, "idle.json"))) md.AppendLine().AppendLine("Idle: not measured (`--quick`).");
        if (File.Exists(Path.Combine(options.Output, "idle.json")))
        {
            var idle = JsonSerializer.Deserialize<IdleRun.IdleResult>(File.ReadAllText(Path.Combine(options.Output, "idle.json")), new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
            md.AppendLine();
            md.AppendLine(CultureInfo.InvariantCulture, $"Idle (started, nothing placed, {idle.Seconds:0} s): the system used **{idle.SystemCpuPercentOfOneCore} %** of one core.");
            md.AppendLine();
            md.AppendLine("| process, idle | % of one core | memory MB (PSS) |");
            md.AppendLine("| --- | ---: | ---: |");
            foreach (var process in idle.Processes.OrderByDescending(p => p.CpuPercentOfOneCore))
            {
                md.AppendLine(CultureInfo.InvariantCulture, $"| {process.Name}{(process.PartOfSystem ? "" : " (not counted)")} | {process.CpuPercentOfOneCore} | {process.ResidentMb} |");
            }
        }

        var summary = md.ToString();
        Console.WriteLine();
        Console.WriteLine(summary);
        File.WriteAllText(Path.Combine(options.Output, "summary.md"), summary);
        File.WriteAllText(Path.Combine(options.Output, "results.json"), JsonSerializer.Serialize(new
        {
            machineCores = Environment.ProcessorCount,
            systemOverBaseline = Ratio(one, baseline),
            auditOffOverBaseline = Ratio(auditOff, baseline),
            scaledOverOne = scaled is null ? null : Ratio(scaled, one),
            phases = phases.Select(p => new { p.Label, median = p.Median, runs = p.Runs }),
        }, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));

        var medians = phases.Select(p => p.Median).ToList();
        ThroughputChart(medians, Path.Combine(options.Output, "throughput.png"));
        LatencyChart(medians, Path.Combine(options.Output, "latency.png"));
        Console.WriteLine($"Written: {Path.Combine(options.Output, "summary.md")}, results.json, throughput.png, latency.png");
        return 0;
    }

    private sealed record Summary(string Label, IReadOnlyList<PhaseResult> Runs)
    {
        public PhaseResult Median => Runs[Runs.Count / 2];
    }

    private static int Order(PhaseResult phase) => phase.Kind switch
    {
        "floor" => 0,
        "baseline" => 1,
        _ => 10 * phase.Instances + (phase.Label == AuditOffLabel ? 1 : phase.Label.StartsWith("system-x1-", StringComparison.Ordinal) ? 2 : 0),
    };

    private static string Describe(PhaseResult phase) => phase.Kind switch
    {
        "floor" => "floor (RabbitMQ.Client + Npgsql: 3 deliveries, no HTTP, no e-mail)",
        "baseline" => "equal-work baseline (same HTTP, token, bodies, 7 deliveries, deadline, e-mail; no framework)",
        _ => $"system, {phase.Instances} instance{(phase.Instances == 1 ? "" : "s")} per endpoint{Variant(phase)}",
    };

    /// <summary>What a system phase changed from the default configuration: auditing off, or an optimisation tried (its label's tail).</summary>
    private static string Variant(PhaseResult phase) => phase.Label switch
    {
        AuditOffLabel => ", auditing off",
        _ when phase.Label.StartsWith("system-x1-", StringComparison.Ordinal) => $", {phase.Label["system-x1-".Length..].Replace('-', ' ')}",
        _ => "",
    };

    /// <summary>The one-instance system run with <c>Conveyor:Audit:Enabled=false</c>.</summary>
    private const string AuditOffLabel = "system-x1-audit-off";

    private static string Name(PhaseResult phase) =>
        phase.Kind is "baseline" or "floor" ? phase.Kind : $"system ×{phase.Instances}{Variant(phase)}";

    private static void ThroughputChart(IReadOnlyList<PhaseResult> phases, string path)
    {
        var plot = new ScottPlot.Plot();
        foreach (var phase in phases)
        {
            var line = plot.Add.Scatter(phase.Timeline.Select(s => (double)s.Second).ToArray(), phase.Timeline.Select(s => (double)s.Emailed).ToArray());
            line.LegendText = $"{Name(phase)} (e-mailed per second)";
        }

        plot.Title("Orders completed per second (to the confirmation e-mail)");
        plot.XLabel("seconds since the first measured order");
        plot.YLabel("orders / s");
        plot.ShowLegend();
        plot.SavePng(path, 1000, 500);
    }

    private static void LatencyChart(IReadOnlyList<PhaseResult> phases, string path)
    {
        var plot = new ScottPlot.Plot();
        var percentiles = new (string Name, Func<LatencySummary, double> Value)[] { ("p50", l => l.P50Ms), ("p95", l => l.P95Ms), ("p99", l => l.P99Ms) };
        var bars = new List<ScottPlot.Bar>();
        for (var p = 0; p < phases.Count; p++)
        {
            for (var q = 0; q < percentiles.Length; q++)
            {
                bars.Add(new ScottPlot.Bar { Position = p * (percentiles.Length + 1) + q, Value = percentiles[q].Value(phases[p].SendToEmail), FillColor = ScottPlot.Palette.Default.GetColor(q) });
            }
        }

        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(
            phases.Select((_, p) => p * (percentiles.Length + 1) + 1.0).ToArray(),
            phases.Select(phase => $"{Name(phase)}\n(p50 / p95 / p99)").ToArray());
        plot.Title("Send → confirmation e-mail latency");
        plot.YLabel("milliseconds");
        plot.Axes.Margins(bottom: 0);
        plot.SavePng(path, 1000, 500);
    }
}
