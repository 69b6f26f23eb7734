using System.Diagnostics;

namespace Conveyor.Bench;

/// <summary>
/// One run of a phase, the same for the system and the baselines: warm up, measure CPU while the load runs and
/// until its last confirmation e-mail reached the sink, check exactly one mail per order there, and let the side
/// check its own records (one payment each, confirmed) and give each order's place→Confirmed.
/// </summary>
public static class Phase
{
    public delegate Task<LatencySummary> Verify(IReadOnlyList<Guid> orders);

    public static async Task<PhaseResult> MeasureAsync(BenchOptions options, string kind, Func<CancellationToken, Task<Guid?>> place,
        Arrivals arrivals, Func<IReadOnlyList<ProcessGroup>> processes, Func<Task<long>> jitted, Verify verify)
    {
        var warmup = await WarmUpAsync(options, place, arrivals);
        var jittedBefore = await jitted();
        // Found after the warm-up: the connection pools have grown by then, and each new connection is a PostgreSQL process.
        var meter = ProcessUsageMeter.Start(processes());
        var measuring = Stopwatch.StartNew();
        Console.WriteLine($"[{options.Label} #{options.Run}] {PhaseResult.LoadDescription(options)} for {options.Duration.TotalSeconds:0} s");
        var load = await LoadGenerator.RunAsync(place, arrivals, options.Duration, options.Concurrency, options.Rate);
        if (load.SentAt.IsEmpty) throw new BenchFailedException($"no order was accepted ({load.Failed} requests failed)");
        Console.WriteLine($"[{options.Label} #{options.Run}] {load.SentAt.Count} orders accepted ({load.Failed} requests failed); waiting for every confirmation e-mail");
        var mails = await arrivals.WaitForAllAsync(load, TimeSpan.FromMinutes(3));
        // From the first measured order to the last e-mail: the work the load caused, not just its sending.
        var usage = meter(measuring.Elapsed);
        var jitRate = Math.Round((await jitted() - jittedBefore) / measuring.Elapsed.TotalSeconds, 1);
        mails.Verify();
        var placeToConfirmed = await verify(load.Accepted);

        var result = new PhaseResult(
            options.Label, kind, options.Instances, options.Run, PhaseResult.LoadDescription(options), Math.Round(warmup.TotalSeconds, 1), jitRate,
            Math.Round(load.Elapsed.TotalSeconds, 1), load.SentAt.Count, load.Failed,
            Math.Round(load.SentAt.Count / load.Elapsed.TotalSeconds, 1), mails.CompletedPerSecond,
            LatencySummary.Of(load.AcceptLatency), placeToConfirmed, mails.SendToEmail, mails.Duplicates,
            usage.Processes, usage.Machine, Timeline(load, arrivals));
        result.Save(options.Output);
        if (options.Ramp) await RampAsync(options, place, arrivals, result.CompletedPerSecond, options.RampStep);
        Console.WriteLine($"[{options.Label} #{options.Run}] {result.CompletedPerSecond} orders/s to the e-mail; send→e-mail p50 {result.SendToEmail.P50Ms} ms, p99 {result.SendToEmail.P99Ms} ms; {result.SystemCpuMsPerOrder} ms CPU per order; {jitRate} methods JIT-compiled per second");
        return result;
    }

    /// <summary>One step of the ramp: a rate held for a while, and what the orders' send→e-mail latency was.</summary>
    public sealed record RampStep(double Rate, int Orders, int Failed, LatencySummary SendToEmail, bool Held);

    /// <summary>The highest open-loop rate held with p99 send→e-mail under the target, and the p99 at half of it.</summary>
    public sealed record RampResult(string Label, double P99TargetMs, double? HighestHeld, LatencySummary? AtHalfTheHighest, IReadOnlyList<RampStep> Steps)
    {
        public void Save(string folder) => File.WriteAllText(Path.Combine(folder, $"{Label}.ramp.json"),
            System.Text.Json.JsonSerializer.Serialize(this, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web) { WriteIndented = true }));
    }

    public const double P99TargetMs = 150;

    /// <summary>
    /// Open loop at rising rates (steps of <paramref name="step"/> and at least 100 orders, each rate 1.25 × the last)
    /// from half the closed loop's throughput — halving first, down to an eighth of it, until a rate is held — until a rate is not held: an
    /// order refused or lost, or p99 send→e-mail at or over <see cref="P99TargetMs"/>. Then half the highest held rate
    /// once more, for its latency.
    /// </summary>
    public static async Task<RampResult> RampAsync(BenchOptions options, Func<CancellationToken, Task<Guid?>> place, Arrivals arrivals, double closedLoop, TimeSpan step)
    {
        var steps = new List<RampStep>();
        async Task<RampStep> RunAsync(double rate)
        {
            // At least 100 orders per step, or its p99 is merely its slowest order (at most a minute).
            var duration = TimeSpan.FromSeconds(Math.Min(60, Math.Max(step.TotalSeconds, 100 / rate)));
            var load = await LoadGenerator.RunAsync(place, arrivals, duration, options.Concurrency, rate);
            var mails = await arrivals.WaitForAllAsync(load, TimeSpan.FromMinutes(2));
            var held = load.Failed == 0 && mails.Missing == 0 && mails.SendToEmail.P99Ms < P99TargetMs;
            var result = new RampStep(Math.Round(rate, 1), load.SentAt.Count, load.Failed + mails.Missing, mails.SendToEmail, held);
            Console.WriteLine($"[{options.Label} ramp] {result.Rate} orders/s: p99 send→e-mail {result.SendToEmail.P99Ms} ms{(result.Failed > 0 ? $", {result.Failed} refused or lost" : "")} — {(held ? "held" : "not held")}");
            return result;
        }

        double? highest = null;
        var rate = Math.Max(1, closedLoop / 2);
        while (steps.Count < 12)
        {
            var result = await RunAsync(rate);
            steps.Add(result);
            if (result.Held) highest = rate;
            if (highest is null && rate <= Math.Max(1, closedLoop / 8)) break;
            if (highest is null) rate /= 2;
            else if (result.Held) rate *= 1.25;
            else break;
        }

        var half = highest is { } h ? (await RunAsync(h / 2)).SendToEmail : null;
        var ramp = new RampResult(options.Label, P99TargetMs, highest is { } best ? Math.Round(best, 1) : null, half, steps);
        ramp.Save(options.Output);
        return ramp;
    }

    /// <summary>
    /// Load in windows (a tenth of the warm-up budget, at least 2 s) until two windows in a row are each no more than
    /// 5 % above the best before them — throughput stopped rising; one flat window was often a pause in a JIT-bound
    /// climb — or the budget (<c>--warmup</c>) is spent; how long it took is reported.
    /// </summary>
    private static async Task<TimeSpan> WarmUpAsync(BenchOptions options, Func<CancellationToken, Task<Guid?>> place, Arrivals arrivals)
    {
        var window = TimeSpan.FromSeconds(Math.Max(2, options.Warmup.TotalSeconds / 10));
        var spent = TimeSpan.Zero;
        var best = 0.0;
        var flat = 0;
        while (spent < options.Warmup)
        {
            var load = await LoadGenerator.RunAsync(place, arrivals, window, options.Concurrency, options.Rate);
            var mails = await arrivals.WaitForAllAsync(load, TimeSpan.FromMinutes(3));
            mails.Verify();
            spent += load.Elapsed;
            var rate = load.SentAt.Count / load.Elapsed.TotalSeconds;
            Console.WriteLine($"[{options.Label} #{options.Run}] warming up: {rate:0.0} orders/s after {spent.TotalSeconds:0} s");
            flat = best > 0 && rate <= best * 1.05 ? flat + 1 : 0;
            best = Math.Max(best, rate);
            if (flat == 2) break;
        }

        return spent;
    }

    private static IReadOnlyList<SecondSample> Timeline(LoadResult load, Arrivals arrivals)
    {
        var start = load.SentAt.Values.Min();
        int Second(long at) => (int)Stopwatch.GetElapsedTime(start, at).TotalSeconds;
        var placed = load.SentAt.Values.GroupBy(Second).ToDictionary(g => g.Key, g => g.Count());
        var emailed = load.SentAt.Keys.Select(o => arrivals.Find(BenchSmtpSink.ConfirmationMessageId(o))).OfType<Arrivals.Arrival>()
            .GroupBy(a => Second(a.FirstAt)).ToDictionary(g => g.Key, g => g.Count());
        var last = Math.Max(placed.Keys.Max(), emailed.Keys.DefaultIfEmpty(0).Max());
        return Enumerable.Range(0, last + 1).Select(s => new SecondSample(s, placed.GetValueOrDefault(s), emailed.GetValueOrDefault(s))).ToList();
    }
}
