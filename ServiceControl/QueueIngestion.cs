using Conveyor.Hosting;
using Conveyor.ServiceControl.FailedMessages;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Conveyor.ServiceControl;

/// <summary>
/// Consumes one of ServiceControl's queues for the life of the host: connects, consumes with manual
/// acknowledgements, and when the broker goes away (or is not there yet) says so in the queue's
/// <see cref="IngestionStatus"/> and connects again. What a subclass does not acknowledge stays in the queue.
/// </summary>
/// <remarks>
/// Written on RabbitMQ.Client rather than as a Wolverine handler: ServiceControl must take any message,
/// of any type or none, byte for byte with every header, and decide itself when to acknowledge it.
/// </remarks>
internal abstract class QueueIngestion(ConnectionSettings connections, IngestionStatus status, TimeProvider clock, ILogger logger) : BackgroundService
{
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(2);

    protected IngestionStatus Status { get; } = status;

    protected TimeProvider Clock { get; } = clock;

    protected ILogger Logger { get; } = logger;

    protected string Queue => Status.Queue;

    /// <summary>Deliveries the broker hands over before any is acknowledged.</summary>
    protected abstract ushort Prefetch { get; }

    /// <summary>Called for each delivery, one at a time, on the channel's dispatcher.</summary>
    protected abstract Task OnDeliveryAsync(IChannel channel, BasicDeliverEventArgs delivery, CancellationToken stoppingToken);

    /// <summary>Runs beside the consumer while the connection lasts (a batch writer); a fault ends the connection.</summary>
    protected virtual Task WhileConsumingAsync(IChannel channel, CancellationToken connectionLost) => Task.Delay(Timeout.Infinite, connectionLost);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var factory = new ConnectionFactory
        {
            Uri = connections.RabbitMqUri,
            ClientProvidedName = $"conveyor-servicecontrol-{Queue}-ingestion",
            // Reconnecting is this loop's job: it also covers a broker that is not there at start-up.
            AutomaticRecoveryEnabled = false,
        };

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ConsumeUntilDisconnectedAsync(factory, stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                Status.BrokerUnavailable(ex.Message, Clock.GetUtcNow());
                Logger.LogWarning("Cannot consume {Queue}: {Reason}; trying again in {Delay}", Queue, ex.Message, ReconnectDelay);
            }

            try { await Task.Delay(ReconnectDelay, Clock, stoppingToken); }
            catch (OperationCanceledException) { }
        }
    }

    private async Task ConsumeUntilDisconnectedAsync(ConnectionFactory factory, CancellationToken stoppingToken)
    {
        await using var connection = await factory.CreateConnectionAsync(stoppingToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken);
        var closed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        channel.ChannelShutdownAsync += (_, e) =>
        {
            closed.TrySetResult(e.ReplyText);
            return Task.CompletedTask;
        };

        // The broker definitions declare the queue (a quorum queue); consuming before they are loaded fails here
        // with NOT_FOUND and the loop tries again.
        await channel.QueueDeclarePassiveAsync(Queue, stoppingToken);
        await channel.BasicQosAsync(0, Prefetch, false, stoppingToken);

        using var connectionLost = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) => OnDeliveryAsync(channel, delivery, connectionLost.Token);
        var alongside = WhileConsumingAsync(channel, connectionLost.Token);
        await channel.BasicConsumeAsync(Queue, autoAck: false, consumer, stoppingToken);
        Status.Consuming(Clock.GetUtcNow());
        Logger.LogInformation("Ingesting {Queue}", Queue);

        try
        {
            var ended = await Task.WhenAny(closed.Task, alongside).WaitAsync(stoppingToken);
            if (ended == alongside) await alongside;
            throw new InvalidOperationException($"the channel closed ({await closed.Task})");
        }
        finally
        {
            await connectionLost.CancelAsync();
            try { await alongside; }
            catch (OperationCanceledException) { }
        }
    }
}
