using System.Text;
using Conveyor.Topology;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using Wolverine;
using Wolverine.RabbitMQ.Internal;

namespace Conveyor.Hosting;

/// <summary>
/// The broker must never dead-letter a message for being redelivered: the durable inbox already keeps every
/// delivered message safe, and a consumer that dies (kill -9, OOM, a lost connection) hands everything it held
/// back to the queue. The quorum queues' delivery limit has to say "none", which the two broker versions spell
/// differently: RabbitMQ 4 limits to 20 unless the queue is declared with <c>x-delivery-limit = -1</c>, while
/// RabbitMQ 3.x has no limit unless the argument is there and reads -1 as "dead-letter at the first
/// redelivery". So each endpoint asks the broker its version once at start-up and declares its queues (and
/// <c>error</c>) accordingly: the same code is right on the 3.10 of a local run and the 4.x of compose and Helm.
/// </summary>
public sealed class BrokerDeliveryLimit
{
    /// <summary>The <c>x-delivery-limit</c> for the quorum queues this endpoint declares, or null for none.</summary>
    public int? ForQuorumQueues { get; private set; }

    /// <summary>The version the broker reported, once it has been asked.</summary>
    public string? BrokerVersion { get; private set; }

    /// <summary>A RabbitMQ 3.x answered: there the absent argument is itself "no limit".</summary>
    public bool IsUnlimitedWithoutArgument => BrokerVersion is { } version && version.StartsWith('3');

    /// <summary>
    /// -1 ("no limit") from RabbitMQ 4 on; nothing before, where the absent argument means no limit. A version it
    /// cannot read gets nothing too: on a 4.x that leaves the default of 20 redeliveries, where -1 on a 3.x would
    /// dead-letter at the first.
    /// </summary>
    public static int? For(string brokerVersion) =>
        int.TryParse(brokerVersion.Split('.')[0], out var major) && major >= 4 ? -1 : null;

    internal void Learn(string brokerVersion)
    {
        BrokerVersion = brokerVersion;
        ForQuorumQueues = For(brokerVersion);
    }
}

/// <summary>
/// Asks the broker its version before Wolverine declares anything (hosted services start in registration order,
/// and this one is registered before Wolverine's). A broker that is not there yet is asked again until it is.
/// </summary>
internal sealed class InspectBrokerOnStartup(
    ConnectionSettings connections,
    EndpointTopology endpoint,
    BrokerDeliveryLimit deliveryLimit,
    WolverineOptions wolverine,
    ILogger<InspectBrokerOnStartup> logger) : IHostedService
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory
        {
            Uri = connections.RabbitMqUri,
            ClientProvidedName = $"conveyor-{endpoint.Name}-startup",
            AutomaticRecoveryEnabled = false,
            RequestedConnectionTimeout = TimeSpan.FromSeconds(5),
        };
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await using var connection = await factory.CreateConnectionAsync(cancellationToken);
                var version = connection.ServerProperties?.TryGetValue("version", out var value) == true && value is byte[] bytes
                    ? Encoding.UTF8.GetString(bytes)
                    : "unknown";
                deliveryLimit.Learn(version);
                // Read when Wolverine declares the endpoint's own (durable, listening) queue.
                wolverine.Transports.GetOrCreate<RabbitMqTransport>().DurableQuorumQueueDeliveryLimit = deliveryLimit.ForQuorumQueues;
                await DeclareTheQueueAsync(connection, cancellationToken);
                logger.LogInformation("RabbitMQ {Version}: queue {Queue} declared with {DeliveryLimit}", version, endpoint.Queue,
                    deliveryLimit.ForQuorumQueues is { } limit ? $"x-delivery-limit = {limit}" : "no x-delivery-limit");
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException && waited.Elapsed < Patience)
            {
                logger.LogWarning("RabbitMQ at {Host}:{Port} does not answer yet ({Reason}); asking again", connections.RabbitMqUri.Host, connections.RabbitMqUri.Port, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            }
        }
    }

    /// <summary>
    /// The one thing an endpoint declares: its own queue, bound to the exchanges of what it subscribes to and receives.
    /// Declared here rather than by Wolverine's auto-provisioning, which also declares the dead-letter queue of every
    /// listener (<c>error</c>, the broker definitions'), and declaring <c>error</c> needs the right to delete it,
    /// which no endpoint has. The arguments are those Wolverine gives a durable quorum listener.
    /// </summary>
    private async Task DeclareTheQueueAsync(IConnection connection, CancellationToken cancellationToken)
    {
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var arguments = new Dictionary<string, object?>
        {
            ["x-queue-type"] = "quorum",
            ["x-dead-letter-exchange"] = SystemTopology.ErrorQueue,
        };
        if (deliveryLimit.ForQuorumQueues is { } limit) arguments["x-delivery-limit"] = limit;
        await channel.QueueDeclareAsync(endpoint.Queue, durable: true, exclusive: false, autoDelete: false, arguments, cancellationToken: cancellationToken);
        foreach (var exchange in endpoint.ExchangesRead)
        {
            await channel.QueueBindAsync(endpoint.Queue, exchange, routingKey: "", cancellationToken: cancellationToken);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
