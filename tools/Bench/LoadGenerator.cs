using System.Diagnostics;
using HdrHistogram;

namespace Conveyor.Bench;

/// <summary>What one load run did: the ids it created, accept latencies (µs) and acceptances per second.</summary>
public sealed class LoadResult
{
    private readonly Lock _gate = new();

    public LongHistogram AcceptLatency { get; } = LatencySummary.NewHistogram();
    /// <summary>Closed loop: from sending an order to seeing it complete — what a client waits per order.</summary>
    public LongHistogram Cycle { get; } = LatencySummary.NewHistogram();
    public List<Guid> Accepted { get; } = [];
    public int Failed { get; private set; }
    public SortedDictionary<int, int> AcceptedPerSecond { get; } = [];
    public TimeSpan Elapsed { get; set; }

    public void RecordCycle(long microseconds)
    {
        lock (_gate) Cycle.RecordValue(Math.Max(1, microseconds));
    }

    public void Record(Guid? id, long latencyMicroseconds, int second)
    {
        lock (_gate)
        {
            if (id is { } accepted)
            {
                Accepted.Add(accepted);
                AcceptLatency.RecordValue(Math.Max(1, latencyMicroseconds));
                AcceptedPerSecond[second] = AcceptedPerSecond.GetValueOrDefault(second) + 1;
            }
            else
            {
                Failed++;
            }
        }
    }
}

/// <summary>
/// Closed loop: a fixed number of clients, each placing its next order when the last one is complete (e-mailed),
/// so the run measures what the system sustains with that many orders in flight. Open loop:
/// orders at a target rate whatever the answers, each latency measured from when it was due, not from when it
/// went out — a stalled system shows as latency instead of hiding behind fewer requests (coordinated omission).
/// </summary>
public static class LoadGenerator
{
    public static async Task<LoadResult> RunAsync(Func<CancellationToken, Task<Guid?>> placeOrder, CompletionWatcher completions, TimeSpan duration, int concurrency, double? rate)
    {
        var result = new LoadResult();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(duration);
        if (rate is { } perSecond)
        {
            var inFlight = new List<Task>();
            var interval = TimeSpan.FromSeconds(1 / perSecond);
            for (var due = TimeSpan.Zero; due < duration; due += interval)
            {
                var wait = due - clock.Elapsed;
                if (wait > TimeSpan.Zero) await Task.Delay(wait);
                var dueAt = due;
                inFlight.Add(Task.Run(async () =>
                {
                    var id = await TryPlaceAsync(placeOrder);
                    result.Record(id, (long)(clock.Elapsed - dueAt).TotalMicroseconds, (int)dueAt.TotalSeconds);
                }));
            }

            await Task.WhenAll(inFlight);
        }
        else
        {
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var started = clock.Elapsed;
                    var id = await TryPlaceAsync(placeOrder);
                    result.Record(id, (long)(clock.Elapsed - started).TotalMicroseconds, (int)started.TotalSeconds);
                    if (id is not { } placed) continue;
                    await completions.WaitAsync(placed, TimeSpan.FromSeconds(60));
                    result.RecordCycle((long)(clock.Elapsed - started).TotalMicroseconds);
                }
            })));
        }

        result.Elapsed = clock.Elapsed;
        return result;
    }

    private static async Task<Guid?> TryPlaceAsync(Func<CancellationToken, Task<Guid?>> placeOrder)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            return await placeOrder(timeout.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or OperationCanceledException)
        {
            return null;
        }
    }
}
