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

/// <summary>Per second of the run: orders sent and confirmation e-mails arrived, on the bench's clock.</summary>
public sealed record SecondSample(int Second, int Placed, int Emailed);

/// <summary>One measured run of one phase (the system, a baseline), as the report reads it back.</summary>
public sealed record PhaseResult(
    string Label,
    string Kind,
    int Instances,
    int Run,
    string Load,
    double WarmupSeconds,
    double JitMethodsPerSecond,
    double DurationSeconds,
    int Orders,
    int FailedRequests,
    double AcceptedPerSecond,
    double CompletedPerSecond,
    LatencySummary Accept,
    LatencySummary PlaceToConfirmed,
    LatencySummary SendToEmail,
    int DuplicateEmails,
    IReadOnlyList<ProcessUsage> Processes,
    MachineUsage Machine,
    IReadOnlyList<SecondSample> Timeline)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>
    /// The side's CPU per order, in ms: for the system every process but the bench's own (the client and the sink);
    /// for the baselines the bench's process too, since their pipeline runs in it (beside the client and the sink,
    /// which this then counts against them).
    /// </summary>
    public double SystemCpuMsPerOrder => Orders == 0 ? 0 : Math.Round(1000 * Processes.Where(p => Kind != "system" || p.Name != ProcessGroup.BenchProcess).Sum(p => p.CpuSeconds) / Orders, 1);

    /// <summary>The whole machine's busy CPU (the client and steal included) per order, in ms.</summary>
    public double MachineCpuMsPerOrder => Orders == 0 ? 0 : Math.Round(1000 * Machine.BusyCpuSeconds / Orders, 1);

    public double OrdersPerCpuSecond => SystemCpuMsPerOrder == 0 ? 0 : Math.Round(1000 / SystemCpuMsPerOrder, 1);

    public string FileName => $"{Label}.run{Run}.json";

    public void Save(string folder) => File.WriteAllText(Path.Combine(folder, FileName), JsonSerializer.Serialize(this, Json));

    public static IReadOnlyList<PhaseResult> ReadAll(string folder) =>
        Directory.GetFiles(folder, "*.run*.json").Order().Select(f => JsonSerializer.Deserialize<PhaseResult>(File.ReadAllText(f), Json)!).ToList();

    public static string LoadDescription(BenchOptions options) =>
        options.Rate is { } rate ? $"open loop, {rate:0.#} orders/s" : $"closed loop, {options.Concurrency} clients";
}
