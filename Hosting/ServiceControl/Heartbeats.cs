using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using Wolverine;

namespace Conveyor.Hosting.ServiceControl;

/// <summary>How often an endpoint instance reports to ServiceControl (<c>Conveyor:Heartbeats:Interval</c>).</summary>
public sealed class HeartbeatOptions
{
    public const string Section = "Conveyor:Heartbeats";

    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(10);

    public static HeartbeatOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<HeartbeatOptions>() ?? new HeartbeatOptions();
        if (options.Interval <= TimeSpan.Zero) throw new InvalidOperationException($"{Section}:Interval must be positive (is {options.Interval}).");
        return options;
    }
}

/// <summary>The endpoint this process is, as ServiceControl knows it.</summary>
public sealed record EndpointIdentity(string Name);

public static class HeartbeatRegistration
{
    /// <summary>Heartbeats to ServiceControl, with the instance's checks and message counters.</summary>
    internal static void AddHeartbeats(this Microsoft.AspNetCore.Builder.WebApplicationBuilder builder, Conveyor.Topology.EndpointTopology endpoint)
    {
        builder.Services.AddSingleton(new EndpointIdentity(endpoint.Name));
        builder.Services.AddSingleton(HeartbeatOptions.From(builder.Configuration));
        builder.Services.AddSingleton<MessageCounterListener>();
        builder.Services.AddHostedService<SendHeartbeats>();
    }
}

/// <summary>
/// Sends an <see cref="EndpointHeartbeat"/> every interval: the instance's health checks (the same ones
/// <c>/health/ready</c> runs, plus any the endpoint adds) and its message counters.
/// </summary>
internal sealed class SendHeartbeats(
    EndpointIdentity endpoint,
    HeartbeatOptions options,
    MessageCounterListener counters,
    HealthCheckService health,
    IServiceScopeFactory scopes,
    IHostApplicationLifetime lifetime,
    TimeProvider clock,
    ILogger<SendHeartbeats> logger) : PeriodicWork(clock, logger)
{
    private readonly DateTimeOffset _startedAt = new(Process.GetCurrentProcess().StartTime.ToUniversalTime());

    protected override TimeSpan Interval => options.Interval;

    // Silence is the signal ServiceControl acts on; a failed heartbeat needs no more than a log line.
    protected override string FailureMessage => "Could not send a heartbeat to ServiceControl";

    /// <summary>Wolverine must be sending before the first heartbeat goes out.</summary>
    protected override async Task BeforeFirstRoundAsync(CancellationToken cancellation)
    {
        try { await Task.Delay(Timeout.Infinite, lifetime.ApplicationStarted).WaitAsync(cancellation); }
        catch (OperationCanceledException) when (lifetime.ApplicationStarted.IsCancellationRequested) { }
    }

    protected override Task RunOnceAsync(CancellationToken cancellation) => SendOneAsync(cancellation);

    private async Task SendOneAsync(CancellationToken cancellation)
    {
        var report = await health.CheckHealthAsync(cancellation);
        var checks = report.Entries
            .Select(e => new CheckResult(e.Key, e.Value.Status == HealthStatus.Healthy, e.Value.Status == HealthStatus.Healthy ? null : e.Value.Description ?? e.Value.Exception?.Message ?? e.Value.Status.ToString()))
            .ToList();
        var heartbeat = new EndpointHeartbeat(endpoint.Name, Environment.MachineName, Environment.ProcessId, _startedAt, Clock.GetUtcNow(), options.Interval, checks, counters.Snapshot());

        await using var scope = scopes.CreateAsyncScope();
        var bus = scope.ServiceProvider.GetRequiredService<IMessageBus>();
        // No expiry: an expired message would be dead-lettered into error. ServiceControl judges a late
        // heartbeat by the time it was sent.
        // Not traced: a heartbeat every few seconds from every endpoint would bury the orders' traces.
        using (SuppressInstrumentationScope.Begin())
        {
            await bus.SendAsync(heartbeat);
        }
    }
}

/// <summary>
/// Counts what Wolverine reports through its own meter (succeeded, failed attempts, moved to error,
/// execution time), so a heartbeat can carry totals without a metrics backend in between.
/// </summary>
internal sealed class MessageCounterListener : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _processed;
    private long _failedAttempts;
    private long _movedToError;
    private long _attempts;
    private double _milliseconds;
    private readonly Lock _timing = new();

    public MessageCounterListener()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name.StartsWith("Wolverine", StringComparison.Ordinal) && instrument.Name is
                    "wolverine-messages-succeeded" or "wolverine-execution-failure" or "wolverine-dead-letter-queue" or "wolverine-execution-time")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) =>
        {
            switch (instrument.Name)
            {
                case "wolverine-messages-succeeded": Interlocked.Add(ref _processed, value); break;
                case "wolverine-execution-failure": Interlocked.Add(ref _failedAttempts, value); break;
                case "wolverine-dead-letter-queue": Interlocked.Add(ref _movedToError, value); break;
            }
        });
        _listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
        {
            lock (_timing)
            {
                _attempts++;
                _milliseconds += value;
            }
        });
        _listener.Start();
    }

    public MessageCounters Snapshot()
    {
        var movedToError = Interlocked.Read(ref _movedToError);
        lock (_timing)
        {
            // Every failed attempt that did not end in the error queue was retried.
            return new MessageCounters(
                Interlocked.Read(ref _processed),
                Math.Max(0, Interlocked.Read(ref _failedAttempts) - movedToError),
                movedToError,
                _milliseconds,
                _attempts);
        }
    }

    public void Dispose() => _listener.Dispose();
}
