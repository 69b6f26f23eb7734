using System.Reflection;
using Conveyor.Hosting.ServiceControl;
using Conveyor.Topology;
using Wolverine;
using Wolverine.RabbitMQ;
using Wolverine.RabbitMQ.Internal;

namespace Conveyor.Hosting;

/// <summary>
/// An endpoint on RabbitMQ, as the topology has it: every message type has a fanout exchange named after it
/// (declared once by the broker definitions, never by an endpoint); the endpoint writes to the exchanges of what it
/// publishes and sends, and binds its own queue — the one thing it declares — to the exchanges of what it subscribes
/// to and receives. Nothing goes through the default exchange, which reaches every queue.
/// </summary>
public static class EndpointMessaging
{
    internal static void Configure(WolverineOptions opts, EndpointTopology endpoint, ConnectionSettings connections)
    {
        var brokerUser = BrokerIdentity.UserOf(connections.RabbitMqUri);
        var rabbit = opts.UseRabbitMq(factory =>
            {
                factory.Uri = connections.RabbitMqUri;
                factory.ClientProvidedName = $"conveyor-{endpoint.Name}";
                // Wolverine rebuilds its channels and consumers itself after a reconnect. The client's own
                // topology recovery revives the old consumers beside them for a moment; with it on, a
                // delivery during a broker restart vanished, with it off the restart test holds.
                factory.TopologyRecoveryEnabled = false;
            })
            // No auto-provisioning: InspectBrokerOnStartup declares the endpoint's own queue and its bindings, the
            // broker definitions everything else.
            // No request/reply: a reply goes to the requester's queue through the default exchange, which no endpoint may write.
            .DisableSystemRequestReplyQueueDeclaration()
            // Without publisher confirms the outbox counts a message as sent once it is written to the
            // socket; a broker that restarts (or a quorum queue that is not ready) in that moment drops
            // it. With them, the send completes only when the broker has taken responsibility.
            .ConfigureChannelCreation(channel =>
            {
                channel.PublisherConfirmationsEnabled = true;
                channel.PublisherConfirmationTrackingEnabled = true;
            })
            .CustomizeDeadLetterQueueing(new DeadLetterQueue(ErrorQueueName)
            {
                // error is the broker definitions' (a quorum queue, durable whatever the delivery mode: Wolverine
                // publishes dead letters as non-persistent), and only ServiceControl may read it.
                ConfigureQueue = queue =>
                {
                    queue.IsExternallyOwned = true;
                    SendThroughTheErrorExchange(queue);
                },
                ConfigureExchange = exchange => exchange.IsExternallyOwned = true,
            })
            // Every message this endpoint puts on the broker says who put it there (the AMQP user_id, which the broker
            // checks against the connection's user), and every message it takes is read for it.
            .ConfigureSenders(sender => sender.UseInterop((_, mapper) => BrokerIdentity.Stamp(mapper, brokerUser)))
            .ConfigureListeners(listener => listener.UseInterop((_, mapper) => BrokerIdentity.Stamp(mapper, brokerUser)));

        var transport = opts.Transports.GetOrCreate<RabbitMqTransport>();
        foreach (var exchange in SystemTopology.Exchanges) transport.Exchanges[exchange].IsExternallyOwned = true;

        foreach (var type in endpoint.Publishes.Concat(endpoint.Sends))
        {
            opts.PublishMessage(type).ToRabbitExchange(SystemTopology.ExchangeFor(type));
        }

        // Every endpoint reports to ServiceControl: heartbeats with its checks, and retries that now succeed.
        opts.PublishMessage<EndpointHeartbeat>().ToRabbitExchange(nameof(EndpointHeartbeat));
        opts.PublishMessage<RetrySucceeded>().ToRabbitExchange(nameof(RetrySucceeded));

        opts.ListenToRabbitQueue(endpoint.Queue, queue =>
        {
            // Quorum queues: replicated and durable, what the deployed broker uses too (declared by InspectBrokerOnStartup).
            queue.QueueType = QueueType.quorum;
        });

        // Dead letters (and the error queue's own sender) need the same stamp; the error queue is neither a listener
        // nor a subscriber, so it is reached through ConfigureQueue above and this policy.
        opts.Policies.Add(new StampTheErrorQueue(transport, brokerUser));
    }

    private const string ErrorQueueName = SystemTopology.ErrorQueue;

    /// <summary>
    /// Wolverine sends dead letters to the error queue through the default exchange, which would let every endpoint
    /// write to every queue. Its queue endpoint is pointed at the error exchange instead (fanout, bound to the error
    /// queue alone, declared by the broker definitions). Wolverine 6.62 offers no setting for it, hence reflection;
    /// <c>EachEndpointHasOnlyItsOwnRights</c> fails if a dead letter ever needs the default exchange again.
    /// </summary>
    private static void SendThroughTheErrorExchange(RabbitMqQueue queue) =>
        (typeof(RabbitMqEndpoint).GetProperty(nameof(RabbitMqEndpoint.ExchangeName), BindingFlags.Instance | BindingFlags.Public)
            ?? throw new InvalidOperationException("Wolverine's RabbitMqEndpoint.ExchangeName is gone: dead letters cannot be routed through the error exchange."))
        .SetValue(queue, ErrorQueueName);

    private sealed class StampTheErrorQueue(RabbitMqTransport transport, string brokerUser) : Wolverine.Configuration.IEndpointPolicy
    {
        public void Apply(Wolverine.Configuration.Endpoint endpoint, Wolverine.Runtime.IWolverineRuntime runtime)
        {
            if (endpoint is not RabbitMqQueue { QueueName: ErrorQueueName } queue) return;
            var configuration = new RabbitMqListenerConfiguration(queue, transport).UseInterop((_, mapper) => BrokerIdentity.Stamp(mapper, brokerUser));
            ((Wolverine.Configuration.IDelayedEndpointConfiguration)configuration).Apply();
            // A listener configuration marks its endpoint as listening; only ServiceControl reads error.
            queue.IsListener = false;
        }
    }
}
