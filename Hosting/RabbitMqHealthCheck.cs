using Microsoft.Extensions.Diagnostics.HealthChecks;
using RabbitMQ.Client;

namespace Conveyor.Hosting;

/// <summary>
/// Ready only while the broker accepts a connection and opens a channel. Written here rather than taken
/// from a health-check package so it uses the exact RabbitMQ.Client that Wolverine brings, and keeps one
/// connection across probes instead of a TCP + AMQP handshake per probe.
/// </summary>
internal sealed class RabbitMqHealthCheck(ConnectionSettings settings) : IHealthCheck, IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_connection is not { IsOpen: true })
            {
                if (_connection is not null)
                {
                    await _connection.DisposeAsync();
                    _connection = null;
                }

                // No automatic recovery: a broken connection is replaced here, not revived behind our back.
                var factory = new ConnectionFactory
                {
                    Uri = settings.RabbitMqUri,
                    ClientProvidedName = "conveyor-health",
                    AutomaticRecoveryEnabled = false,
                    RequestedConnectionTimeout = TimeSpan.FromSeconds(3),
                };
                _connection = await factory.CreateConnectionAsync(cancellationToken);
            }

            await using var channel = await _connection.CreateChannelAsync(cancellationToken: cancellationToken);
            await channel.CloseAsync(cancellationToken);
            return HealthCheckResult.Healthy($"connected to {settings.RabbitMqUri.Host}:{settings.RabbitMqUri.Port}");
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy($"broker unreachable: {ex.Message}", ex);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync();
        _gate.Dispose();
    }
}
