using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;

namespace Conveyor.Bench;

/// <summary>What one load run did: the orders it placed (with when each was sent), accept latencies (µs).</summary>
public sealed class LoadResult
{
    private readonly Lock _gate = new();

    public LongHistogram AcceptLatency { get; } = LatencySummary.NewHistogram();
    /// <summary>Each accepted order and when it was sent (open loop: when it was due), a <see cref="Stopwatch"/> timestamp.</summary>
    public ConcurrentDictionary<Guid, long> SentAt { get; } = new();
    public int Failed { get; private set; }
    public TimeSpan Elapsed { get; set; }

    public IReadOnlyList<Guid> Accepted => [.. SentAt.Keys];

    public void Record(Guid? id, long sentAt, long answeredAt)
    {
        if (id is { } accepted)
        {
            SentAt[accepted] = sentAt;
            lock (_gate) AcceptLatency.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(sentAt, answeredAt).TotalMicroseconds));
        }
        else
        {
            lock (_gate) Failed++;
        }
    }
}

/// <summary>
/// Closed loop: a fixed number of clients, each placing its next order when its last one is complete (its e-mail reached the sink),
/// so the run measures what the system sustains with that many orders in flight (clients ÷ latency, not capacity).
/// Open loop: orders at a target rate whatever the answers, each latency measured from when it was due, not from
/// when it went out — a stalled system shows as latency instead of hiding behind fewer requests (coordinated
/// omission).
/// </summary>
public static class LoadGenerator
{
    public static async Task<LoadResult> RunAsync(Func<CancellationToken, Task<Guid?>> placeOrder, Arrivals arrivals, TimeSpan duration, int concurrency, double? rate)
    {
        var result = new LoadResult();
        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(duration);
        if (rate is { } perSecond)
        {
            var inFlight = new List<Task>();
            var interval = TimeSpan.FromSeconds(1 / perSecond);
            var start = Stopwatch.GetTimestamp();
            for (var due = TimeSpan.Zero; due < duration; due += interval)
            {
                var wait = due - clock.Elapsed;
                if (wait > TimeSpan.Zero) await Task.Delay(wait);
                var dueAt = start + (long)(due.TotalSeconds * Stopwatch.Frequency);
                inFlight.Add(Task.Run(async () => result.Record(await TryPlaceAsync(placeOrder), dueAt, Stopwatch.GetTimestamp())));
            }

            await Task.WhenAll(inFlight);
        }
        else
        {
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var sent = Stopwatch.GetTimestamp();
                    var id = await TryPlaceAsync(placeOrder);
                    result.Record(id, sent, Stopwatch.GetTimestamp());
                    if (id is { } placed) await arrivals.WaitAsync(BenchSmtpSink.ConfirmationMessageId(placed), TimeSpan.FromSeconds(60));
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
