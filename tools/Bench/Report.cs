using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Conveyor.Bench;

/// <summary>The phases' results as one Markdown summary (printed and written), one JSON file and two charts.</summary>
public static class Report
{
    public static int Write(BenchOptions options)
    {
        var baseline = PhaseResult.Read(options.Output, "baseline");
        var one = PhaseResult.Read(options.Output, "system-x1") ?? throw new BenchFailedException($"no system-x1.json in {options.Output}: run the system phase first");
        // The scale-out phase: however many instances it ran with (-Instances, two by default).
        var two = Directory.GetFiles(options.Output, "system-x*.json").Select(f => PhaseResult.Read(options.Output, Path.GetFileNameWithoutExtension(f)))
            .OfType<PhaseResult>().Where(p => p.Instances > 1).OrderBy(p => p.Instances).FirstOrDefault();
        var auditOff = PhaseResult.Read(options.Output, AuditOffLabel);
        var phases = new[] { baseline, one, auditOff, two }.OfType<PhaseResult>().ToList();
        var auditCost = auditOff is null ? (double?)null : Math.Round(one.CompletedPerSecond / auditOff.CompletedPerSecond, 2);

        var ratio = baseline is null ? (double?)null : Math.Round(one.CompletedPerSecond / baseline.CompletedPerSecond, 2);
        var scaleOut = two is null ? (double?)null : Math.Round(two.CompletedPerSecond / one.CompletedPerSecond, 2);
        var busiest = one.Processes.OrderByDescending(p => p.CpuPercentOfOneCore).First();

        var md = new StringBuilder();
        md.AppendLine(CultureInfo.InvariantCulture, $"## Conveyor benchmark — {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {one.Load}");
        md.AppendLine();
        md.AppendLine("| run | orders | orders/s to e-mail | accepted/s | accept p50 / p99 ms | place→Confirmed p50 / p95 / p99 ms | place→e-mail p50 / p95 / p99 ms |");
        md.AppendLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var phase in phases)
        {
            var name = phase.Kind == "baseline" ? "baseline (raw RabbitMQ.Client + Npgsql)"
                : $"system, {phase.Instances} instance{(phase.Instances == 1 ? "" : "s")} per endpoint{(phase.Label == AuditOffLabel ? ", auditing off" : "")}";
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {name} | {phase.Orders} | **{phase.CompletedPerSecond}** | {phase.AcceptedPerSecond} | {phase.Accept.P50Ms} / {phase.Accept.P99Ms} | {phase.PlaceToConfirmed.P50Ms} / {phase.PlaceToConfirmed.P95Ms} / {phase.PlaceToConfirmed.P99Ms} | {phase.PlaceToEmail.P50Ms} / {phase.PlaceToEmail.P95Ms} / {phase.PlaceToEmail.P99Ms} |");
        }

        md.AppendLine();
        if (ratio is { } r) md.AppendLine(CultureInfo.InvariantCulture, $"- **system / baseline: {r}** (orders per second to the confirmation e-mail; the baseline does the same durable work with no framework)");
        if (auditCost is { } a) md.AppendLine(CultureInfo.InvariantCulture, $"- **auditing on / off: {a}** (orders per second, one instance per endpoint; with auditing each handled message also sends its copy to audit, which ServiceControl stores)");
        if (scaleOut is { } s) md.AppendLine(CultureInfo.InvariantCulture, $"- **scale-out, {two!.Instances} instances / one: {s}** — every order still had exactly one payment and one e-mail");
        md.AppendLine(CultureInfo.InvariantCulture, $"- busiest process with one instance: **{busiest.Name}**, {busiest.CpuPercentOfOneCore} % of one core (the machine has {Environment.ProcessorCount})");
        // Whether the machine, rather than one process, is the limit: every process measured, together.
        md.AppendLine(CultureInfo.InvariantCulture, $"- all measured processes together with one instance: **{Math.Round(one.Processes.Sum(p => p.CpuPercentOfOneCore))} %** of the machine's {100 * Environment.ProcessorCount} %");
        md.AppendLine();
        md.AppendLine("| process (one instance) | CPU s | % of one core | peak memory MB |");
        md.AppendLine("| --- | ---: | ---: | ---: |");
        foreach (var process in one.Processes.OrderByDescending(p => p.CpuSeconds))
        {
            md.AppendLine(CultureInfo.InvariantCulture, $"| {process.Name} | {process.CpuSeconds} | {process.CpuPercentOfOneCore} | {process.PeakMemoryMb} |");
        }

        var summary = md.ToString();
        Console.WriteLine();
        Console.WriteLine(summary);
        File.WriteAllText(Path.Combine(options.Output, "summary.md"), summary);
        File.WriteAllText(Path.Combine(options.Output, "results.json"), JsonSerializer.Serialize(new
        {
            machineCores = Environment.ProcessorCount,
            systemOverBaseline = ratio,
            twoInstancesOverOne = scaleOut,
            auditOnOverOff = auditCost,
            busiestProcess = busiest.Name,
            phases,
        }, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }));

        ThroughputChart(phases, Path.Combine(options.Output, "throughput.png"));
        LatencyChart(phases, Path.Combine(options.Output, "latency.png"));
        Console.WriteLine($"Written: {Path.Combine(options.Output, "summary.md")}, results.json, throughput.png, latency.png");
        return 0;
    }

    /// <summary>The one-instance system run with <c>Conveyor:Audit:Enabled=false</c>.</summary>
    private const string AuditOffLabel = "system-x1-audit-off";

    private static string Name(PhaseResult phase) =>
        phase.Kind == "baseline" ? "baseline" : $"system ×{phase.Instances}{(phase.Label == AuditOffLabel ? " audit off" : "")}";

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
                bars.Add(new ScottPlot.Bar { Position = p * (percentiles.Length + 1) + q, Value = percentiles[q].Value(phases[p].PlaceToConfirmed), FillColor = ScottPlot.Palette.Default.GetColor(q) });
            }
        }

        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(
            phases.Select((_, p) => p * (percentiles.Length + 1) + 1.0).ToArray(),
            phases.Select(phase => $"{Name(phase)}\n(p50 / p95 / p99)").ToArray());
        plot.Title("Place → Confirmed latency");
        plot.YLabel("milliseconds");
        plot.Axes.Margins(bottom: 0);
        plot.SavePng(path, 1000, 500);
    }
}
