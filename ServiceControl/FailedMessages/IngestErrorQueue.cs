using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Conveyor.Hosting;
using Conveyor.ServiceControl.Audit;
using Conveyor.Topology;
using Microsoft.EntityFrameworkCore;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Conveyor.ServiceControl.FailedMessages;

/// <summary>
/// Takes failed messages from <c>error</c> and stores them. A message is acknowledged only after its
/// record has committed, so the broker keeps anything not yet stored; a redelivery of something already
/// stored is recognised by its failure key and changes nothing. A trusted failure also takes its place in its
/// order's conversation (a <see cref="Audit.ProcessedMessage"/> with outcome Failed), in the same transaction.
/// </summary>
internal sealed class IngestErrorQueue(
    ConnectionSettings connections,
    ServiceControlOptions options,
    IServiceScopeFactory scopes,
    IngestionStatus status,
    TimeProvider clock,
    ILogger<IngestErrorQueue> logger) : QueueIngestion(connections, status, clock, logger)
{
    private static readonly TimeSpan StoreFailureDelay = TimeSpan.FromSeconds(1);

    protected override ushort Prefetch => options.IngestionPrefetch;

    protected override Task OnDeliveryAsync(IChannel channel, BasicDeliverEventArgs delivery, CancellationToken stoppingToken) =>
        IngestAsync(channel, delivery, stoppingToken);

    private async Task IngestAsync(IChannel channel, BasicDeliverEventArgs delivery, CancellationToken stoppingToken)
    {
        var failure = FailedMessageReceipt.Read(delivery.BasicProperties, delivery.Body.ToArray(), Clock.GetUtcNow());
        if (failure.Untrusted is { } reason)
        {
            ConveyorTelemetry.FailuresRejected.Add(1);
            Logger.LogWarning("Refused a message in {Queue} as a failure: {Reason}", ConveyorEndpoint.ErrorQueue, reason);
        }

        try
        {
            try
            {
                await StoreAsync(failure, stoppingToken);
            }
            catch (DbUpdateException ex) when (IsRefusedData(ex))
            {
                // PostgreSQL refuses this record's data (something MakeStorable does not know yet): store what is
                // certain to fit — the body, byte for byte, and the failure without the headers — rather than
                // requeue it for ever.
                Logger.LogWarning("Failed message {MessageId} could not be stored as received ({Reason}); storing it without its headers", failure.Message.MessageId, ex.InnerException!.Message);
                await StoreAsync(failure.WithoutHeaders(ex.InnerException!.Message), stoppingToken);
            }
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            // Not stored, so not acknowledged: the broker keeps it and delivers it again.
            Status.StoreFailed(failure.Message.MessageId, ex.Message, Clock.GetUtcNow());
            Logger.LogError(ex, "Could not store failed message {MessageId}; it stays in {Queue}", failure.Message.MessageId, ConveyorEndpoint.ErrorQueue);
            await Task.Delay(StoreFailureDelay, Clock, stoppingToken);
            await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, stoppingToken);
            return;
        }

        await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, stoppingToken);
        Status.Stored(Clock.GetUtcNow());
    }

    /// <summary>A data exception (SQLSTATE class 22) or a program limit (54): the same record will always be refused.</summary>
    private static bool IsRefusedData(DbUpdateException ex) =>
        ex.InnerException is Npgsql.PostgresException { SqlState: [ '2', '2', ..] or [ '5', '4', ..] };

    private async Task StoreAsync(FailedMessageReceipt failure, CancellationToken cancellation)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ServiceControlDb>();
            try
            {
                var existing = await db.FailedMessages.Include(m => m.Failures).SingleOrDefaultAsync(m => m.Id == failure.Message.Id, cancellation);
                if (existing is null)
                {
                    failure.Message.Record(failure.Failure);
                    if (failure.Untrusted is not null) failure.Message.Reject();
                    db.FailedMessages.Add(failure.Message);
                }
                else if (existing.Record(failure.Failure))
                {
                    // A later failure of the same message adds to its history. What a retry sends — the body, the
                    // queue, the properties — stays what the first, trusted copy said: a later copy under the same
                    // id (a forgery reusing a real failure's id among them) never replaces it.
                    existing.Headers = failure.Message.Headers;
                }

                // The failed step in its order's conversation (the audit contract's headers say where it belongs).
                if (failure.Untrusted is null)
                {
                    await ProcessedMessageStore.AddAsync(db, [ProcessedMessageReceipt.ForFailure(failure.Message, options.MaxAuditBodyBytes, Clock.GetUtcNow())], cancellation);
                }

                await db.SaveChangesAsync(cancellation);
                return;
            }
            catch (DbUpdateException) when (attempt < 5)
            {
                // A retry or confirmation changed the record meanwhile (or a twin insert won): read it again.
            }
        }
    }
}

/// <summary>A delivery from <c>error</c> read into a failed-message record and the failure it reports.</summary>
internal sealed record FailedMessageReceipt(FailedMessage Message, FailureRecord Failure, string? Untrusted = null)
{
    private const string NoDetails = "(the message reached the error queue without failure details)";

    /// <summary>The record with no headers and its properties reduced to what a retry needs, for a store PostgreSQL refused.</summary>
    public FailedMessageReceipt WithoutHeaders(string refusal)
    {
        Message.Headers = [];
        Message.Properties = new MessageProperties { MessageId = Message.MessageId, Type = Message.MessageType, ContentType = Message.Properties.ContentType };
        Message.StorageNote = Storable.Note([$"PostgreSQL refused the message as received ({refusal}); it is stored without its headers"]);
        Message.Failures.Clear();
        return this;
    }

    public static FailedMessageReceipt Read(IReadOnlyBasicProperties properties, byte[] body, DateTimeOffset receivedAt)
    {
        var changes = new List<string>();
        return Read(new MessageProperties
        {
            MessageId = properties.MessageId,
            CorrelationId = properties.CorrelationId,
            Type = properties.Type,
            ContentType = properties.ContentType,
            ContentEncoding = properties.ContentEncoding,
            ReplyTo = properties.ReplyTo,
            AppId = properties.AppId,
            Priority = properties.Priority,
        }, AmqpHeaders.ToText(properties.Headers, changes), body, receivedAt, properties.UserId, changes);
    }

    /// <param name="publishedBy">The broker user that put the message into <c>error</c> (AMQP <c>user_id</c>, which the broker vouches for).</param>
    /// <param name="changes">What reading the AMQP headers already had to change (invalid UTF-8), for the storage note.</param>
    public static FailedMessageReceipt Read(MessageProperties properties, Dictionary<string, string?> headers, byte[] body, DateTimeOffset receivedAt, string? publishedBy, List<string>? changes = null)
    {
        string? Header(string name) => AmqpHeaders.Value(headers, name);

        var failureKey = FailureKey(properties, headers, body);
        // Dead-lettered by the broker itself (expired, rejected, over the length limit), not by an endpoint.
        var brokerReason = Header("x-first-death-reason");
        var brokerQueue = Header("x-first-death-queue");
        var messageId = properties.MessageId ?? Header("id") ?? failureKey;
        var failedAt = Timestamp(Header(FailureHeaders.LastFailureAt)) ?? receivedAt;
        // A message the broker dead-lettered names only the queue it came from (x-death): every endpoint's queue
        // is named after the endpoint, so that queue says whose message it was.
        var endpoint = Header(FailureHeaders.Endpoint) ?? brokerQueue;

        var failure = new FailureRecord
        {
            FailureKey = failureKey,
            FailedAt = failedAt,
            FirstFailedAt = Timestamp(Header(FailureHeaders.FirstFailureAt)),
            Endpoint = endpoint,
            Attempts = int.TryParse(Header(FailureHeaders.Attempts), CultureInfo.InvariantCulture, out var attempts) ? attempts : null,
            ExceptionType = Header("exception-type") ?? (brokerReason is null ? "(unknown)" : $"(dead-lettered by the broker: {brokerReason})"),
            ExceptionMessage = Header("exception-message") ?? (brokerReason is null ? NoDetails : $"RabbitMQ dead-lettered the message from queue {brokerQueue} ({brokerReason})."),
            StackTrace = Header("exception-stack") ?? "",
        };

        var message = new FailedMessage
        {
            MessageId = messageId.Length > 200 ? messageId[..200] : messageId,
            MessageType = Header(FailureHeaders.MessageType) ?? properties.Type ?? Header("message-type"),
            Endpoint = endpoint,
            Queue = QueueName(Header(FailureHeaders.Queue) ?? Header("original-destination") ?? brokerQueue),
            CorrelationId = properties.CorrelationId ?? Header(FailureHeaders.CorrelationId),
            Body = body,
            Headers = headers,
            Properties = properties,
        };
        // An endpoint only ever puts into error what it took from its own queue: a failure naming none (a message
        // Wolverine could not even read a type from) is its queue's.
        if (message.Queue is null && brokerReason is null) message.Queue = SystemTopology.Endpoints.FirstOrDefault(e => e.BrokerUser == publishedBy)?.Queue;
        // One record per message and queue: an event fails in each subscriber on its own (a retry goes back to one
        // queue), so the failure of one subscriber must neither merge into nor be resolved by another's.
        message.Id = IdFor($"{messageId}@{message.Queue}");
        var untrusted = WhyNotTrusted(message, brokerReason is not null, publishedBy);
        if (untrusted is not null)
        {
            // Kept apart from any record of the message id it claims, so it can neither overwrite nor resolve one.
            message.Id = IdFor($"rejected:{failureKey}");
            failure.ExceptionType = "(refused by ServiceControl: untrusted sender)";
            failure.ExceptionMessage = untrusted;
            failure.StackTrace = "";
        }
        else
        {
            // Believed: the failure is the endpoint's that owns the queue, whatever name its headers give it.
            message.Endpoint = failure.Endpoint = SystemTopology.OwnerOfQueue(message.Queue)!.Name;
            if (failure.ExceptionType == typeof(UntrustedSenderException).FullName)
            {
                // The endpoint refused it for its sender. A retry would deliver it again with ServiceControl's
                // rights, which the endpoint accepts: so it is rejected, kept apart, and never retried.
                message.Id = IdFor($"rejected:{failureKey}");
                untrusted = $"{failure.Endpoint} refused it: {failure.ExceptionMessage}";
            }
        }

        failure.FailedMessageId = message.Id;
        MakeStorable(message, failure, changes ?? []);
        return new FailedMessageReceipt(message, failure, untrusted);
    }

    /// <summary>
    /// A failure is believed only from the endpoint that owns the queue it names: it put the message into
    /// <c>error</c> itself, as its own broker user. A message the broker dead-lettered carries its original
    /// publisher's user instead: believed when that user may publish its type and the queue it came from is one the
    /// topology routes that type to. Anything else would let any broker user plant a message that an operator's
    /// routine "retry all" then delivers into an endpoint with ServiceControl's rights.
    /// </summary>
    internal static string? WhyNotTrusted(FailedMessage message, bool deadLetteredByTheBroker, string? publishedBy)
    {
        var owner = SystemTopology.OwnerOfQueue(message.Queue);
        if (owner is null) return $"it names queue '{message.Queue ?? "(none)"}', which no endpoint of the topology owns";
        if (publishedBy is null) return $"it came without a broker user (AMQP user_id); only {owner.BrokerUser}, which owns queue '{owner.Queue}', may put its failures into {ConveyorEndpoint.ErrorQueue}";
        if (publishedBy == owner.BrokerUser) return null;

        var type = SystemTopology.MessageTypes.FirstOrDefault(t => t.FullName == message.MessageType);
        if (deadLetteredByTheBroker && type is not null
            && SystemTopology.SendersOf(type).Any(e => e.BrokerUser == publishedBy)
            && (owner.SubscribesTo.Contains(type) || owner.Receives.Contains(type)))
        {
            return null;
        }

        return $"it was published by broker user '{publishedBy}', not by {owner.BrokerUser}, which owns queue '{owner.Queue}'";
    }

    /// <summary>
    /// Whatever PostgreSQL would refuse (a NUL character in text or jsonb) or that would bloat every page showing it
    /// (a header of a megabyte) is changed so the record can be stored, and the change is noted on the record: a
    /// message that could not be stored would be requeued for ever. The body is stored byte for byte (bytea).
    /// </summary>
    private static void MakeStorable(FailedMessage message, FailureRecord failure, List<string> changes)
    {
        message.Headers = Storable.Headers(message.Headers, changes);
        var p = message.Properties;
        message.Properties = p with
        {
            MessageId = Storable.Text(p.MessageId, "the message id", Storable.MaxHeaderLength, changes),
            CorrelationId = Storable.Text(p.CorrelationId, "the correlation id", Storable.MaxHeaderLength, changes),
            Type = Storable.Text(p.Type, "the type", Storable.MaxHeaderLength, changes),
            ContentType = Storable.Text(p.ContentType, "the content type", Storable.MaxHeaderLength, changes),
            ContentEncoding = Storable.Text(p.ContentEncoding, "the content encoding", Storable.MaxHeaderLength, changes),
            ReplyTo = Storable.Text(p.ReplyTo, "reply-to", Storable.MaxHeaderLength, changes),
            AppId = Storable.Text(p.AppId, "the app id", Storable.MaxHeaderLength, changes),
        };
        message.MessageId = Storable.Text(message.MessageId, "the message id", 200, [])!;
        message.MessageType = Storable.Text(message.MessageType, "the message type", 500, changes);
        message.Queue = Storable.Text(message.Queue, "the queue", 255, changes);
        message.Endpoint = Storable.Text(message.Endpoint, "the endpoint", 255, changes);
        message.CorrelationId = Storable.Text(message.CorrelationId, "the correlation id", 200, []);
        failure.Endpoint = message.Endpoint;
        failure.ExceptionType = Storable.Text(failure.ExceptionType, "the exception type", 500, changes)!;
        failure.ExceptionMessage = Storable.Text(failure.ExceptionMessage, "the exception message", Storable.MaxHeaderLength, changes)!;
        failure.StackTrace = Storable.Text(failure.StackTrace, "the stack trace", Storable.MaxHeaderLength, changes)!;
        if (changes.Count > 0) message.StorageNote = Storable.Note(changes);
    }

    /// <summary>A stable GUID derived from what identifies the record (a message id and its queue, or a rejection's failure key).</summary>
    private static Guid IdFor(string key) => new(SHA256.HashData(Encoding.UTF8.GetBytes(key)).AsSpan(0, 16));

    /// <summary>
    /// What makes this failure this one: the message, its headers (the failure headers differ between
    /// failures) and body; broker-added <c>x-</c> headers (delivery counts) differ between redeliveries and are left out.
    /// </summary>
    private static string FailureKey(MessageProperties properties, Dictionary<string, string?> headers, byte[] body)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(properties.MessageId ?? ""));
        foreach (var (name, value) in headers.Where(h => !h.Key.StartsWith("x-", StringComparison.Ordinal)).OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"\n{name}={value}"));
        }

        hash.AppendData(body);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    internal static DateTimeOffset? Timestamp(string? value) =>
        DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) ? at.ToUniversalTime() : null;

    /// <summary><c>rabbitmq://queue/payments</c> (how Wolverine names its endpoints) or a bare name → <c>payments</c>.</summary>
    internal static string? QueueName(string? destination)
    {
        if (string.IsNullOrWhiteSpace(destination)) return null;
        if (!Uri.TryCreate(destination, UriKind.Absolute, out var uri)) return destination;
        return uri.Scheme == "rabbitmq" && uri.Host == "queue" ? uri.AbsolutePath.Trim('/') : null;
    }
}

/// <summary>Text as PostgreSQL can store it and a page can show it.</summary>
internal static class Storable
{
    /// <summary>A header value (or exception text) kept up to this many characters; the rest is cut and noted.</summary>
    public const int MaxHeaderLength = 64 * 1024;
    public const int MaxHeaderNameLength = 255;

    public static string? Text(string? value, string what, int maxLength, List<string> changes)
    {
        if (value is null) return null;
        if (value.Contains('\0'))
        {
            value = value.Replace('\0', '\uFFFD');
            changes.Add($"{what} held NUL characters (stored as U+FFFD)");
        }

        if (value.Length > maxLength)
        {
            changes.Add($"{what} was {value.Length} characters (the first {maxLength} kept)");
            value = value[..maxLength];
        }

        return value;
    }

    /// <summary>Every header name and value as <see cref="Text"/> makes it.</summary>
    public static Dictionary<string, string?> Headers(Dictionary<string, string?> headers, List<string> changes)
    {
        var stored = new Dictionary<string, string?>();
        foreach (var (name, value) in headers)
        {
            var storedName = Text(name, "a header name", MaxHeaderNameLength, changes)!;
            stored.TryAdd(storedName, Text(value, $"header '{storedName}'", MaxHeaderLength, changes));
        }

        return stored;
    }

    public static string Note(IEnumerable<string> changes)
    {
        var note = "Stored with changes: " + string.Join("; ", changes.Distinct()) + ".";
        return note.Length > 4000 ? note[..3997] + "..." : note;
    }
}

/// <summary>AMQP header values (bytes, numbers, timestamps, tables) as text, the way they are shown and re-sent.</summary>
internal static class AmqpHeaders
{
    /// <summary>A header's value, or null when it is missing or empty.</summary>
    public static string? Value(IReadOnlyDictionary<string, string?> headers, string name) =>
        headers.TryGetValue(name, out var value) && !string.IsNullOrEmpty(value) ? value : null;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <param name="changes">Where to say which values were not valid UTF-8 (read with U+FFFD for each bad sequence).</param>
    public static Dictionary<string, string?> ToText(IDictionary<string, object?>? headers, List<string>? changes = null) =>
        headers?.ToDictionary(h => h.Key, h => Text(h.Value, h.Key, changes)) ?? [];

    private static string? Text(object? value, string name = "", List<string>? changes = null) => value switch
    {
        null => null,
        byte[] bytes => Utf8(bytes, name, changes),
        AmqpTimestamp timestamp => DateTimeOffset.FromUnixTimeSeconds(timestamp.UnixTime).ToString("O"),
        IDictionary<string, object?> table => "{" + string.Join(", ", table.Select(e => $"{e.Key}: {Text(e.Value)}")) + "}",
        System.Collections.IEnumerable list and not string => "[" + string.Join(", ", list.Cast<object?>().Select(v => Text(v))) + "]",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    private static string Utf8(byte[] bytes, string name, List<string>? changes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            changes?.Add($"header '{name}' was not valid UTF-8 (each bad sequence stored as U+FFFD)");
            return Encoding.UTF8.GetString(bytes);
        }
    }
}
