using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Conveyor.Hosting;

/// <summary>
/// Fixed windows of requests per client, counted in the endpoint's own database, so that every instance of an
/// endpoint counts the same requests: two Orders instances allow a client its limit once, not twice. Hand-written
/// (one upsert per request) rather than a Redis-backed limiter library: the database is already what every instance
/// shares and depends on, so the limit costs no new service to run, secure and keep available. The counters live in
/// an unlogged table (a crash may forget a window's count, which only lets a client start afresh). If the database
/// cannot be asked, each instance counts alone until it can: a limiter must not turn an outage into refusals.
/// </summary>
internal sealed class SharedRateLimitWindows(NpgsqlDataSource database, TimeProvider clock, ILogger<SharedRateLimitWindows> logger)
{
    private const string Table = "conveyor_rate_limit_windows";
    private DateTimeOffset _nextCleanUp = DateTimeOffset.MinValue;
    private DateTimeOffset _nextWarning = DateTimeOffset.MinValue;

    /// <summary>The start of the window <paramref name="at"/> falls in: aligned to the epoch, so every instance agrees.</summary>
    public static DateTimeOffset WindowOf(DateTimeOffset at, TimeSpan window) =>
        DateTimeOffset.UnixEpoch + TimeSpan.FromTicks((at - DateTimeOffset.UnixEpoch).Ticks / window.Ticks * window.Ticks);

    /// <summary>Counts one more request of <paramref name="partition"/> in the current window; null when the database cannot be asked.</summary>
    public async ValueTask<(long Count, DateTimeOffset WindowEnds)?> CountAsync(string partition, TimeSpan window, CancellationToken cancellation)
    {
        var now = clock.GetUtcNow();
        var start = WindowOf(now, window);
        try
        {
            await using var command = database.CreateCommand(
                $"insert into {Table} as w (partition, window_start, count) values ($1, $2, 1) " +
                "on conflict (partition, window_start) do update set count = w.count + 1 returning count");
            command.Parameters.Add(new NpgsqlParameter { Value = partition });
            command.Parameters.Add(new NpgsqlParameter { Value = start });
            var count = (int)(await command.ExecuteScalarAsync(cancellation))!;
            if (now >= _nextCleanUp) await CleanUpAsync(start, window, cancellation);
            return (count, start + window);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            if (now >= _nextWarning)
            {
                _nextWarning = now + TimeSpan.FromMinutes(1);
                logger.LogWarning(ex, "Rate limits are counted per instance until the database answers again");
            }

            return null;
        }
    }

    /// <summary>At start-up, beside the migrations (<see cref="MigrateDatabaseOnStartup{TDb}"/>): not the endpoint's schema, so not one of its migrations.</summary>
    public async Task CreateTableAsync(CancellationToken cancellation)
    {
        await using var command = database.CreateCommand(
            $"create unlogged table if not exists {Table} (partition text not null, window_start timestamptz not null, count integer not null, primary key (partition, window_start))");
        try
        {
            await command.ExecuteNonQueryAsync(cancellation);
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable)
        {
            // Another instance created it at the same moment.
        }
    }

    /// <summary>Once a window, by whichever instance gets there: windows before the current one are done with.</summary>
    private async Task CleanUpAsync(DateTimeOffset currentWindow, TimeSpan window, CancellationToken cancellation)
    {
        _nextCleanUp = currentWindow + window;
        await using var command = database.CreateCommand($"delete from {Table} where window_start < $1");
        command.Parameters.Add(new NpgsqlParameter { Value = currentWindow });
        await command.ExecuteNonQueryAsync(cancellation);
    }
}

/// <summary>One client's limit: counted by <see cref="SharedRateLimitWindows"/>, or by this instance alone while the database is away.</summary>
internal sealed class SharedFixedWindowRateLimiter(string partition, int permits, TimeSpan window, SharedRateLimitWindows windows, TimeProvider clock) : RateLimiter
{
    private readonly FixedWindowRateLimiter _alone = new(new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = window, QueueLimit = 0 });
    private DateTimeOffset _lastUsed = clock.GetUtcNow();

    public override TimeSpan? IdleDuration => clock.GetUtcNow() - _lastUsed;

    public override RateLimiterStatistics? GetStatistics() => _alone.GetStatistics();

    /// <summary>
    /// No permit without asking the database: ASP.NET Core's middleware tries this first and, refused, waits for
    /// <see cref="AcquireAsyncCore"/>.
    /// </summary>
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => Lease.NotYet;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        _lastUsed = clock.GetUtcNow();
        var counted = await windows.CountAsync(partition, window, cancellationToken);
        if (counted is not { } shared) return await _alone.AcquireAsync(permitCount, cancellationToken);
        return shared.Count <= permits ? Lease.Granted : new Lease(false, shared.WindowEnds - clock.GetUtcNow());
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _alone.Dispose();
        base.Dispose(disposing);
    }

    private sealed class Lease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public static readonly Lease Granted = new(true, null);
        public static readonly Lease NotYet = new(false, null);

        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = metadataName == MetadataName.RetryAfter.Name ? retryAfter : null;
            return metadata is not null;
        }
    }
}
