using System.Globalization;
using System.Text;
using Conveyor.Hosting;
using Conveyor.ServiceControl.FailedMessages;
using Conveyor.Topology;
using NpgsqlTypes;

namespace Conveyor.ServiceControl.Audit;

public enum MessageOutcome
{
    /// <summary>Handled: its audit copy arrived.</summary>
    Processed,

    /// <summary>In <c>error</c> (or was): handled by nobody yet, its failure is a failed message.</summary>
    Failed,
}

/// <summary>
/// One message as one endpoint handled it (or failed to): what the audit contract's headers say about it, its body
/// up to <see cref="ServiceControlOptions.MaxAuditBodyBytes"/>, and the headers it arrived with. A message handled by
/// two endpoints (an event with two subscribers) is two records; one endpoint's record of a message is unique, so a
/// copy delivered twice is stored once.
/// </summary>
public sealed class ProcessedMessage
{
    public Guid Id { get; set; }
    public string MessageId { get; set; } = "";
    public string ProcessingEndpoint { get; set; } = "";
    public MessageOutcome Outcome { get; set; }

    /// <summary>The failed-message record of a failed one (or of one that failed before it was processed).</summary>
    public Guid? FailedMessageId { get; set; }

    public string? MessageType { get; set; }
    public string? Intent { get; set; }
    public string? ConversationId { get; set; }
    public string? RelatedTo { get; set; }
    public string? CorrelationId { get; set; }
    public string? SendingEndpoint { get; set; }
    public string? ProcessingInstance { get; set; }
    public string? Queue { get; set; }
    public DateTimeOffset? TimeSent { get; set; }
    public DateTimeOffset? ProcessingStarted { get; set; }
    public DateTimeOffset? ProcessingEnded { get; set; }

    /// <summary>From processing started to ended, in milliseconds.</summary>
    public double? ProcessingMilliseconds { get; set; }

    /// <summary>From sent to processing ended (queueing and retries included), in milliseconds.</summary>
    public double? CriticalMilliseconds { get; set; }

    public string? SagaType { get; set; }
    public string? SagaId { get; set; }
    public string? SagaChange { get; set; }
    public string? SagaState { get; set; }

    /// <summary>What the handler sent, as the audit contract's JSON array.</summary>
    public string? Outgoing { get; set; }

    public Dictionary<string, string?> Headers { get; set; } = [];
    public string? ContentType { get; set; }

    /// <summary>Null when the body was larger than the store keeps (<see cref="BodySize"/> says how large).</summary>
    public byte[]? Body { get; set; }

    public int BodySize { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }

    /// <summary>What free text finds it by (<see cref="ProcessedMessageReceipt.SearchText"/>); PostgreSQL indexes it as <see cref="Search"/>.</summary>
    public string SearchText { get; set; } = "";

    public NpgsqlTsVector Search { get; set; } = null!;

    /// <summary>A failed message went through after all (a retry): its record becomes the audit copy's, still linked to the failure.</summary>
    public void Processed(ProcessedMessage copy)
    {
        Outcome = MessageOutcome.Processed;
        (MessageType, Intent, ConversationId, RelatedTo, CorrelationId) = (copy.MessageType, copy.Intent, copy.ConversationId, copy.RelatedTo, copy.CorrelationId);
        (SendingEndpoint, ProcessingInstance, Queue, TimeSent) = (copy.SendingEndpoint, copy.ProcessingInstance, copy.Queue, copy.TimeSent);
        (ProcessingStarted, ProcessingEnded, ProcessingMilliseconds, CriticalMilliseconds) = (copy.ProcessingStarted, copy.ProcessingEnded, copy.ProcessingMilliseconds, copy.CriticalMilliseconds);
        (SagaType, SagaId, SagaChange, SagaState, Outgoing) = (copy.SagaType, copy.SagaId, copy.SagaChange, copy.SagaState, copy.Outgoing);
        (Headers, ContentType, Body, BodySize, ReceivedAt, SearchText) = (copy.Headers, copy.ContentType, copy.Body, copy.BodySize, copy.ReceivedAt, copy.SearchText);
    }

    /// <summary>The short type name, e.g. <c>OrderPlaced</c>.</summary>
    public string ShortType => ShortTypeOf(MessageType);

    public string Kind => KindOf(Intent);

    public static string ShortTypeOf(string? type) => type is null ? "(unknown)" : type[(type.LastIndexOf('.') + 1)..];

    /// <summary>
    /// A timeout is what an endpoint scheduled for itself; an event is published, a command sent, and an HTTP request
    /// answered. How Pulse draws each.
    /// </summary>
    public static string KindOf(string? intent) => intent switch
    {
        AuditHeaders.Intents.Scheduled => "timeout",
        AuditHeaders.Intents.Send => "command",
        AuditHeaders.Intents.Http => "http",
        AuditHeaders.Intents.Reply => "reply",
        _ => "event",
    };
}

/// <summary>A delivery from <c>audit</c>, or a failure from <c>error</c>, read into a record (and what it is searched by).</summary>
internal static class ProcessedMessageReceipt
{
    /// <summary>
    /// An audit copy is believed from the endpoint whose broker user published it (AMQP <c>user_id</c>, which the
    /// broker vouches for): that endpoint is the processing endpoint, whatever the headers say. None, or one that is
    /// no business endpoint's, is refused: null, with the reason.
    /// </summary>
    public static (ProcessedMessage? Message, string? Refusal) ReadAuditCopy(Dictionary<string, string?> headers, byte[] body, string? publishedBy, int maxBodyBytes, DateTimeOffset receivedAt)
    {
        var endpoint = SystemTopology.BusinessEndpoints.FirstOrDefault(e => e.BrokerUser == publishedBy);
        if (endpoint is null)
        {
            return (null, publishedBy is null
                ? "it came without a broker user (AMQP user_id)"
                : $"it was published by broker user '{publishedBy}', which is no business endpoint's");
        }

        string? Header(string name) => AmqpHeaders.Value(headers, name);
        var messageId = Header(AuditHeaders.MessageId);
        if (messageId is null) return (null, $"it has no {AuditHeaders.MessageId} header");

        var message = Read(headers, Header, messageId, endpoint.Name, MessageOutcome.Processed, receivedAt);
        message.ProcessingStarted = Timestamp(Header(AuditHeaders.ProcessingStarted));
        message.ProcessingEnded = Timestamp(Header(AuditHeaders.ProcessingEnded));
        message.ProcessingMilliseconds = Milliseconds(message.ProcessingStarted, message.ProcessingEnded);
        message.CriticalMilliseconds = Milliseconds(message.TimeSent, message.ProcessingEnded);
        message.SagaType = Bounded(Header(AuditHeaders.SagaType), 500);
        message.SagaId = Bounded(Header(AuditHeaders.SagaId), 200);
        message.SagaChange = Bounded(Header(AuditHeaders.SagaChange), 16);
        message.SagaState = Bounded(Header(AuditHeaders.SagaState), Storable.MaxHeaderLength);
        message.Outgoing = Bounded(Header(AuditHeaders.Outgoing), Storable.MaxHeaderLength);
        message.Headers = Storable.Headers(OriginalHeaders(Header(AuditHeaders.OriginalHeaders)) ?? headers, []);
        message.Headers.Remove(AuditHeaders.OriginalHeaders);
        WithBody(message, body, maxBodyBytes);
        return (message, null);
    }

    /// <summary>A failure as its conversation shows it: the failed message's own record, stored beside it.</summary>
    public static ProcessedMessage ForFailure(FailedMessage failed, int maxBodyBytes, DateTimeOffset receivedAt)
    {
        var headers = failed.Headers;
        string? Header(string name) => AmqpHeaders.Value(headers, name);
        var message = Read(headers, Header, failed.MessageId, failed.Endpoint ?? "(unknown)", MessageOutcome.Failed, receivedAt);
        message.FailedMessageId = failed.Id;
        message.MessageType ??= failed.MessageType;
        message.CorrelationId ??= failed.CorrelationId;
        message.ProcessingEnded = failed.LastFailedAt;
        message.CriticalMilliseconds = Milliseconds(message.TimeSent, failed.LastFailedAt);
        message.Headers = headers;
        WithBody(message, failed.Body, maxBodyBytes);
        message.ContentType ??= failed.Properties.ContentType;
        return message;
    }

    private static ProcessedMessage Read(Dictionary<string, string?> headers, Func<string, string?> header, string messageId, string endpoint, MessageOutcome outcome, DateTimeOffset receivedAt)
    {
        var queue = FailedMessageReceipt.QueueName(header(AuditHeaders.Queue)) ?? header(AuditHeaders.Queue);
        return new ProcessedMessage
        {
            Id = Guid.CreateVersion7(),
            MessageId = Bounded(messageId, 200)!,
            ProcessingEndpoint = endpoint,
            Outcome = outcome,
            MessageType = Bounded(header(AuditHeaders.MessageType), 500),
            Intent = Bounded(header(AuditHeaders.Intent), 32),
            ConversationId = Bounded(header(AuditHeaders.ConversationId) ?? header(AuditHeaders.CorrelationId), 200),
            RelatedTo = Bounded(header(AuditHeaders.RelatedTo), 200),
            CorrelationId = Bounded(header(AuditHeaders.CorrelationId), 200),
            SendingEndpoint = Bounded(header(AuditHeaders.SendingEndpoint), 255),
            ProcessingInstance = Bounded(header(AuditHeaders.ProcessingInstance), 255),
            Queue = Bounded(queue, 255),
            ContentType = Bounded(header(AuditHeaders.ContentType), 255),
            TimeSent = Timestamp(header(AuditHeaders.TimeSent)),
            ReceivedAt = receivedAt,
        };
    }

    private static void WithBody(ProcessedMessage message, byte[] body, int maxBodyBytes)
    {
        message.BodySize = body.Length;
        message.Body = body.Length <= maxBodyBytes ? body : null;
        message.SearchText = SearchText(message);
    }

    /// <summary>What free text finds the message by: its type (short and full), its ids, its correlation id and its body as text.</summary>
    private static string SearchText(ProcessedMessage message)
    {
        var text = new StringBuilder();
        foreach (var part in (string?[])[message.ShortType, message.MessageType, message.MessageId, message.ConversationId, message.CorrelationId, message.SagaId])
        {
            if (part is not null) text.Append(part).Append(' ');
        }

        if (message.Body is { } body) text.Append(Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, MaxSearchedBodyBytes)));
        // PostgreSQL refuses NUL in text; a tsvector past 1 MB is refused too, hence the bound above.
        return text.Replace('\0', ' ').ToString();
    }

    /// <summary>How much of a body free text searches.</summary>
    public const int MaxSearchedBodyBytes = 16 * 1024;

    private static Dictionary<string, string?>? OriginalHeaders(string? json)
    {
        if (json is null) return null;
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string?>>(json);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static string? Bounded(string? value, int maxLength) =>
        value is null ? null : Storable.Text(value, "", maxLength, []);

    private static double? Milliseconds(DateTimeOffset? from, DateTimeOffset? to) =>
        from is { } start && to is { } end ? Math.Max(0, (end - start).TotalMilliseconds) : null;

    private static DateTimeOffset? Timestamp(string? value) => FailedMessageReceipt.Timestamp(value);
}
