using System.Text.Json;
using HdrHistogram;

namespace Conveyor.Bench;

public sealed record LatencySummary(double P50Ms, double P95Ms, double P99Ms, double MaxMs, long Count)
{
    /// <summary>Microseconds up to ten minutes, three significant digits.</summary>
    public static LongHistogram NewHistogram() => new((long)TimeSpan.FromMinutes(10).TotalMicroseconds, 3);

    /// <summary>The spans between two recorded timestamps of each order (placed → confirmed, placed → e-mailed).</summary>
    public static LatencySummary Between(IEnumerable<(DateTimeOffset From, DateTimeOffset To)> spans)
    {
        var histogram = NewHistogram();
        foreach (var (from, to) in spans) histogram.RecordValue(Math.Max(1, (long)(to - from).TotalMicroseconds));
        return Of(histogram);
    }

    /// <summary>From a histogram of microseconds.</summary>
    public static LatencySummary Of(LongHistogram microseconds) => microseconds.TotalCount == 0
        ? new LatencySummary(0, 0, 0, 0, 0)
        : new LatencySummary(
            Ms(microseconds.GetValueAtPercentile(50)), Ms(microseconds.GetValueAtPercentile(95)),
            Ms(microseconds.GetValueAtPercentile(99)), Ms(microseconds.GetMaxValue()), microseconds.TotalCount);

    private static double Ms(long microseconds) => Math.Round(microseconds / 1000.0, 1);
}

/// <summary>Per second of the run: orders placed, confirmed and mailed (by their recorded timestamps).</summary>
public sealed record SecondSample(int Second, int Placed, int Confirmed, int Emailed);

public sealed record PhaseResult(
    string Label,
    string Kind,
    int Instances,
    string Load,
    double DurationSeconds,
    int Orders,
    int FailedRequests,
    double AcceptedPerSecond,
    double CompletedPerSecond,
    LatencySummary Accept,
    LatencySummary PlaceToConfirmed,
    LatencySummary PlaceToEmail,
    IReadOnlyList<ProcessUsage> Processes,
    IReadOnlyList<SecondSample> Timeline)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public void Save(string folder) => File.WriteAllText(Path.Combine(folder, $"{Label}.json"), JsonSerializer.Serialize(this, Json));

    public static PhaseResult? Read(string folder, string label) =>
        File.Exists(Path.Combine(folder, $"{label}.json")) ? JsonSerializer.Deserialize<PhaseResult>(File.ReadAllText(Path.Combine(folder, $"{label}.json")), Json) : null;

    public static string LoadDescription(BenchOptions options) =>
        options.Rate is { } rate ? $"open loop, {rate:0.#} orders/s" : $"closed loop, {options.Concurrency} clients";

    /// <summary>Orders completed per second, from the first placement to the last completion.</summary>
    public static double Throughput(int orders, DateTimeOffset first, DateTimeOffset last) =>
        Math.Round(orders / Math.Max(0.001, (last - first).TotalSeconds), 1);
}
