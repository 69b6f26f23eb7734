using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conveyor.Hosting;

/// <summary>
/// Work repeated on a fixed interval for the life of the host: once at start, then every interval. A failed
/// round is logged and the next one comes as scheduled; stopping the host ends the loop.
/// </summary>
public abstract class PeriodicWork(TimeProvider clock, ILogger logger) : BackgroundService
{
    protected TimeProvider Clock { get; } = clock;

    protected ILogger Logger { get; } = logger;

    protected abstract TimeSpan Interval { get; }

    /// <summary>What the log says when a round fails.</summary>
    protected abstract string FailureMessage { get; }

    protected abstract Task RunOnceAsync(CancellationToken cancellation);

    /// <summary>Waited for before the first round (e.g. the host having started).</summary>
    protected virtual Task BeforeFirstRoundAsync(CancellationToken cancellation) => Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, Clock);
        try
        {
            await BeforeFirstRoundAsync(stoppingToken);
            do
            {
                try
                {
                    await RunOnceAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    Logger.LogWarning(ex, "{Failure}; trying again in {Interval}", FailureMessage, Interval);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
