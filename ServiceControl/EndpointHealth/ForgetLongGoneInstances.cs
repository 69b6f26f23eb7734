using Conveyor.Hosting;
using Conveyor.ServiceControl.Monitoring;
using Microsoft.EntityFrameworkCore;

namespace Conveyor.ServiceControl.EndpointHealth;

/// <summary>
/// Forgets endpoint instances (and their throughput) silent for longer than
/// <see cref="ServiceControlOptions.ForgetInstancesSilentFor"/>, so a deployment that replaces its pods every day does
/// not pile up instances that will never come back. Checked with the retention job's interval.
/// </summary>
internal sealed class ForgetLongGoneInstances(ServiceControlOptions options, IServiceScopeFactory scopes, EndpointThroughput throughput, TimeProvider clock, ILogger<ForgetLongGoneInstances> logger)
    : PeriodicWork(clock, logger)
{
    protected override TimeSpan Interval => options.RetentionCheckInterval;

    protected override string FailureMessage => "Forgetting long-gone endpoint instances failed";

    protected override async Task RunOnceAsync(CancellationToken cancellation)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ServiceControlDb>();
        var silentSince = Clock.GetUtcNow() - options.ForgetInstancesSilentFor;
        var forgotten = await db.EndpointInstances.Where(i => i.LastSeenAt < silentSince).ExecuteDeleteAsync(cancellation);
        throughput.Forget(silentSince);
        if (forgotten > 0) Logger.LogInformation("Forgot {Count} endpoint instances silent since {Since:O}", forgotten, silentSince);
    }
}
