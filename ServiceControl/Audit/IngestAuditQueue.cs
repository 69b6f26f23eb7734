using System.Threading.Channels;
using Conveyor.Hosting;
using Conveyor.ServiceControl.FailedMessages;
using Microsoft.EntityFrameworkCore;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Conveyor.ServiceControl.Audit;

/// <summary>
/// Takes audit copies from <c>audit</c> and stores them in batches: whatever arrived while the last batch was being
/// written goes in the next one (up to <see cref="ServiceControlOptions.AuditBatchSize"/>), so a quiet system stores
/// each copy at once and a busy one writes few, large transactions. A batch is acknowledged only after it has
/// committed; a copy delivered again is recognised by its message and endpoint and changes nothing. While
/// ServiceControl is down the copies wait in the queue.
/// </summary>
internal sealed class IngestAuditQueue(
    ConnectionSettings connections,
    ServiceControlOptions options,
    IServiceScopeFactory scopes,
    AuditIngestionStatus status,
    TimeProvider clock,
    ILogger<IngestAuditQueue> logger) : QueueIngestion(connections, status, clock, logger)
{
    private readonly record struct Received(ulong DeliveryTag, ProcessedMessage? Message);

    private Channel<Received> _received = Channel.CreateUnbounded<Received>();

    protected override ushort Prefetch => (ushort)Math.Min(ushort.MaxValue, options.AuditBatchSize * 2);

    protected override Task OnDeliveryAsync(IChannel channel, BasicDeliverEventArgs delivery, CancellationToken stoppingToken)
    {
        // Read now: the client reuses the body's memory once this returns.
        var headers = AmqpHeaders.ToText(delivery.BasicProperties.Headers);
        var (message, refusal) = ProcessedMessageReceipt.ReadAuditCopy(headers, delivery.Body.ToArray(), delivery.BasicProperties.UserId, options.MaxAuditBodyBytes, Clock.GetUtcNow());
        if (refusal is not null)
        {
            ConveyorTelemetry.AuditCopiesRejected.Add(1);
            Logger.LogWarning("Refused a message in {Queue} as an audit copy: {Reason}", Queue, refusal);
        }

        return _received.Writer.WriteAsync(new Received(delivery.DeliveryTag, message), stoppingToken).AsTask();
    }

    protected override async Task WhileConsumingAsync(IChannel channel, CancellationToken connectionLost)
    {
        // Deliveries of a lost connection cannot be acknowledged any more: the broker gives them again.
        var received = _received = Channel.CreateUnbounded<Received>();
        var batch = new List<Received>(options.AuditBatchSize);
        while (await received.Reader.WaitToReadAsync(connectionLost))
        {
            batch.Clear();
            while (batch.Count < options.AuditBatchSize && received.Reader.TryRead(out var next)) batch.Add(next);

            var messages = batch.Select(r => r.Message).OfType<ProcessedMessage>().ToList();
            try
            {
                await StoreAsync(messages, connectionLost);
            }
            catch (Exception ex) when (!connectionLost.IsCancellationRequested)
            {
                // Not stored, so not acknowledged: closing the channel gives the batch (and what followed it) back.
                Status.StoreFailed($"batch of {messages.Count}", ex.Message, Clock.GetUtcNow());
                Logger.LogError(ex, "Could not store a batch of {Count} audit copies; they stay in {Queue}", messages.Count, Queue);
                throw;
            }

            await channel.BasicAckAsync(batch[^1].DeliveryTag, multiple: true, connectionLost);
            Status.Stored(Clock.GetUtcNow(), messages.Count);
        }
    }

    private async Task StoreAsync(List<ProcessedMessage> messages, CancellationToken cancellation)
    {
        if (messages.Count == 0) return;
        for (var attempt = 1; ; attempt++)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ServiceControlDb>();
            // One connection for the lookup and the insert: otherwise each takes one from the pool, and PostgreSQL
            // resets it (DISCARD ALL) each time.
            await db.Database.OpenConnectionAsync(cancellation);
            try
            {
                await ProcessedMessageStore.AddAsync(db, messages, cancellation);
                await db.SaveChangesAsync(cancellation);
                return;
            }
            catch (DbUpdateException) when (attempt < 5)
            {
                // Another instance stored one of them meanwhile (or a failure of the same message): read again.
            }
        }
    }
}

/// <summary>Adds records to the store: one per message and endpoint, a processed one replacing a failed one.</summary>
internal static class ProcessedMessageStore
{
    public static async Task AddAsync(ServiceControlDb db, IReadOnlyList<ProcessedMessage> messages, CancellationToken cancellation)
    {
        var ids = messages.Select(m => m.MessageId).Distinct().ToList();
        var existing = await db.ProcessedMessages.Where(m => ids.Contains(m.MessageId)).ToListAsync(cancellation);
        var known = existing.ToDictionary(m => (m.MessageId, m.ProcessingEndpoint));
        foreach (var message in messages)
        {
            if (!known.TryGetValue((message.MessageId, message.ProcessingEndpoint), out var record))
            {
                db.ProcessedMessages.Add(message);
                known[(message.MessageId, message.ProcessingEndpoint)] = message;
            }
            else if (record.Outcome == MessageOutcome.Failed && message.Outcome == MessageOutcome.Processed)
            {
                // It failed, was retried, and now went through: the conversation shows it handled, and links its failure.
                record.Processed(message);
            }
        }
    }
}
