using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Conveyor.Hosting;

/// <summary>
/// Ready only once some node of this endpoint runs Wolverine's durability agent for its database (the agent
/// that fires scheduled retries and timeouts, such as the payment deadline, and recovers the inbox and
/// outbox). In the seconds after a cold start no node holds it yet, and anything scheduled waits for it.
/// </summary>
internal sealed class DurabilityAgentHealthCheck(NpgsqlDataSource database) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await database.OpenConnectionAsync(cancellationToken);
            await using var command = new NpgsqlCommand(
                "select count(*) from wolverine.wolverine_node_assignments where id like 'wolverinedb://%'", connection);
            var running = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
            return running > 0
                ? HealthCheckResult.Healthy("durability agent running")
                : HealthCheckResult.Unhealthy("durability agent not started yet");
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return HealthCheckResult.Unhealthy("message storage not created yet");
        }
    }
}
