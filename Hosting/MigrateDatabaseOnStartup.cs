using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Conveyor.Hosting;

/// <summary>Applies the endpoint's EF Core migrations, and creates the hosting library's own table, before anything else starts.</summary>
internal sealed class MigrateDatabaseOnStartup<TDb>(IServiceProvider services, ILogger<MigrateDatabaseOnStartup<TDb>> logger)
    : IHostedService where TDb : DbContext
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TDb>();
        await db.Database.MigrateAsync(cancellationToken);
        var applied = await db.Database.GetAppliedMigrationsAsync(cancellationToken);
        logger.LogInformation("Database schema of {DbContext} is at migration {Migration}", typeof(TDb).Name, applied.LastOrDefault());
        await services.GetRequiredService<SharedRateLimitWindows>().CreateTableAsync(cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
