using Npgsql;

namespace Conveyor.Bench;

/// <summary>
/// Tells a closed-loop client when its order has been e-mailed, so each client has one order in flight end to
/// end. Without it a client waits only for the 202, the system accepts far faster than it completes, and the
/// backlog (and every latency) grows for as long as the run lasts. One query over all orders in flight every
/// <see cref="Interval"/>, the same for the system and the baseline; the latencies reported still come from
/// the recorded timestamps, so the poll only costs the clients a little idle time.
/// </summary>
public sealed class CompletionWatcher : IAsyncDisposable
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    private readonly Dictionary<Guid, TaskCompletionSource> _inFlight = [];
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _polling;

    /// <param name="sql">Selects the ids among <c>@ids</c> that are complete.</param>
    public CompletionWatcher(string connectionString, string sql) => _polling = PollAsync(connectionString, sql);

    /// <summary>Completes when the order is done, or after <paramref name="timeout"/> (the run's verification then reports it).</summary>
    public async Task WaitAsync(Guid order, TimeSpan timeout)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate) _inFlight[order] = done;
        await Task.WhenAny(done.Task, Task.Delay(timeout));
        lock (_gate) _inFlight.Remove(order);
    }

    private async Task PollAsync(string connectionString, string sql)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(_stop.Token);
            using var timer = new PeriodicTimer(Interval);
            while (await timer.WaitForNextTickAsync(_stop.Token))
            {
                Guid[] ids;
                lock (_gate) ids = [.. _inFlight.Keys];
                if (ids.Length == 0) continue;
                await using var query = new NpgsqlCommand(sql, connection);
                query.Parameters.AddWithValue("ids", ids);
                await using var reader = await query.ExecuteReaderAsync(_stop.Token);
                while (await reader.ReadAsync(_stop.Token))
                {
                    lock (_gate)
                    {
                        if (_inFlight.Remove(reader.GetGuid(0), out var done)) done.TrySetResult();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed: the run is over.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _polling;
        _stop.Dispose();
    }
}
