using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using SmtpServer;
using SmtpServer.ComponentModel;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Conveyor.Bench;

/// <summary>
/// What has arrived, by key (a mail's Message-Id; for the floor, which sends no mail, its last stage's completion),
/// when first and how often, on the bench's <see cref="Stopwatch"/> clock; and waiting for one or for all of a run.
/// </summary>
public sealed class Arrivals
{
    private readonly ConcurrentDictionary<string, Arrival> _received = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiting = new(StringComparer.Ordinal);

    /// <summary>
    /// What the sink saw of a run's orders: how many had no confirmation mail or more than one, the latency from the
    /// client's send to the mail's arrival, and orders per second from the first send to the last arrival.
    /// </summary>
    public sealed record MailCheck(int Orders, int Missing, int Duplicates, LatencySummary SendToEmail, double CompletedPerSecond)
    {
        /// <summary>Exactly one confirmation e-mail per order, or the run failed.</summary>
        public void Verify()
        {
            if (Missing > 0 || Duplicates > 0) throw new BenchFailedException($"of {Orders} orders {Missing} had no confirmation e-mail at the sink and {Duplicates} had more than one");
            Console.WriteLine($"    verified at the SMTP sink: {Orders} orders, one confirmation e-mail each");
        }
    }

    /// <summary>When a Message-Id first arrived (a <see cref="Stopwatch"/> timestamp) and how many times it did.</summary>
    public sealed record Arrival(long FirstAt, int Count);

    /// <summary>Completes when the mail has arrived (at once if it already has), or after <paramref name="timeout"/>.</summary>
    public async Task WaitAsync(string messageId, TimeSpan timeout)
    {
        if (_received.ContainsKey(messageId)) return;
        var arrived = _waiting.GetOrAdd(messageId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        // Arrived between the look and the registration: the store completes only what it finds registered.
        if (_received.ContainsKey(messageId)) arrived.TrySetResult();
        await Task.WhenAny(arrived.Task, Task.Delay(timeout));
        _waiting.TryRemove(messageId, out _);
    }

    public Arrival? Find(string messageId) => _received.GetValueOrDefault(messageId);

    /// <summary>
    /// Waits until every accepted order's confirmation has arrived (or <paramref name="timeout"/>), then counts: the
    /// orders with no mail, those with more than one, and each one's latency from the client's send to the arrival.
    /// </summary>
    public async Task<MailCheck> WaitForAllAsync(LoadResult load, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        foreach (var order in load.Accepted)
        {
            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
            if (left > TimeSpan.Zero) await WaitAsync(BenchSmtpSink.ConfirmationMessageId(order), left);
        }

        var latencies = LatencySummary.NewHistogram();
        int missing = 0, duplicates = 0;
        long last = 0;
        foreach (var (order, sentAt) in load.SentAt)
        {
            if (Find(BenchSmtpSink.ConfirmationMessageId(order)) is not { } arrival)
            {
                missing++;
                continue;
            }

            if (arrival.Count > 1) duplicates++;
            last = Math.Max(last, arrival.FirstAt);
            latencies.RecordValue(Math.Max(1, (long)Stopwatch.GetElapsedTime(sentAt, arrival.FirstAt).TotalMicroseconds));
        }

        var first = load.SentAt.Values.DefaultIfEmpty(0).Min();
        return new MailCheck(load.SentAt.Count, missing, duplicates, LatencySummary.Of(latencies),
            last == 0 ? 0 : Math.Round((load.SentAt.Count - missing) / Stopwatch.GetElapsedTime(first, last).TotalSeconds, 1));
    }

    /// <summary>Every mail that came, whether anybody waited for it.</summary>
    public int TotalReceived => _received.Values.Sum(a => a.Count);

    public void Record(string messageId, long at)
    {
        _received.AddOrUpdate(messageId, _ => new Arrival(at, 1), (_, earlier) => earlier with { Count = earlier.Count + 1 });
        if (_waiting.TryGetValue(messageId, out var waiter)) waiter.TrySetResult();
    }

}

/// <summary>
/// Where the system and the baseline send their e-mails during the bench: a real SMTP server (the SmtpServer
/// package) in the bench's own process that keeps nothing but each mail's Message-Id, how many times it came and
/// when it first did, on the bench's clock. smtp4dev, the development catcher, parses and stores every mail and
/// cost some 12 ms of CPU each: measured as if it were the system's. An order is complete when its mail is here.
/// </summary>
public sealed class BenchSmtpSink : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    public BenchSmtpSink(int port)
    {
        Port = port;
        var options = new SmtpServerOptionsBuilder().ServerName("bench-sink").Endpoint(e => e.Endpoint(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, port))).Build();
        var services = new ServiceProvider();
        services.Add(new Store(this));
        _serving = new SmtpServer.SmtpServer(options, services).StartAsync(_stop.Token);
    }

    public int Port { get; }

    /// <summary>The mails that came, by Message-Id.</summary>
    public Arrivals Received { get; } = new();

    /// <summary>The Message-Id Notifications gives an order's confirmation e-mail (CustomerNotification.MessageId), which the baseline gives it too.</summary>
    public static string ConfirmationMessageId(Guid order) => $"{order:N}.orderconfirmed@conveyor.example";


    /// <summary>The Message-Id header of a raw message, without its angle brackets; the rest of it is not read.</summary>
    internal static string? MessageIdOf(ReadOnlySequence<byte> message)
    {
        var reader = new SequenceReader<byte>(message);
        while (reader.TryReadTo(out ReadOnlySequence<byte> line, "\r\n"u8))
        {
            if (line.Length == 0) return null; // the end of the headers
            var text = Encoding.ASCII.GetString(line);
            if (text.StartsWith("Message-Id:", StringComparison.OrdinalIgnoreCase)) return text["Message-Id:".Length..].Trim().Trim('<', '>');
        }

        return null;
    }

    private sealed class Store(BenchSmtpSink sink) : MessageStore
    {
        public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            var at = Stopwatch.GetTimestamp();
            if (MessageIdOf(buffer) is not { } id) return Task.FromResult(new SmtpResponse(SmtpReplyCode.TransactionFailed, "a Message-Id header is required"));
            sink.Received.Record(id, at);
            return Task.FromResult(SmtpResponse.Ok);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _serving;
        }
        catch (OperationCanceledException)
        {
            // Stopped: the run is over.
        }

        _stop.Dispose();
    }
}
