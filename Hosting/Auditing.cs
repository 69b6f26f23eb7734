using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conveyor.Hosting.ServiceControl;
using Conveyor.Messages;
using Conveyor.Topology;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;
using Wolverine.RabbitMQ;
using Wolverine.Runtime;
using Wolverine.Runtime.Serialization;

namespace Conveyor.Hosting;

/// <summary>
/// The audit contract: the headers every endpoint, in any language, puts on what it sends and on the copy of each
/// message it handled, so that ServiceControl can tell each order's story (README, "The audit contract").
/// </summary>
public static class AuditHeaders
{
    // On every message an endpoint sends:

    /// <summary>The order's conversation: the id every message it causes inherits (the order id where it starts).</summary>
    public const string ConversationId = "conveyor-conversation-id";

    /// <summary>The id of the message whose handler sent this one (or of the HTTP request that did).</summary>
    public const string RelatedTo = "conveyor-related-to";

    /// <summary><c>publish</c> (an event), <c>send</c> (a command), <c>reply</c>, <c>scheduled</c> (a timeout), or <c>http</c> (a request an endpoint answered).</summary>
    public const string Intent = "conveyor-message-intent";

    // On the audit copy, and on a failed message in error:

    public const string MessageId = "conveyor-message-id";
    public const string MessageType = FailureHeaders.MessageType;
    public const string CorrelationId = FailureHeaders.CorrelationId;
    public const string ContentType = "conveyor-content-type";

    /// <summary>The endpoint that sent the message, as the broker vouched for it (its AMQP <c>user_id</c>).</summary>
    public const string SendingEndpoint = "conveyor-sending-endpoint";

    public const string ProcessingEndpoint = FailureHeaders.Endpoint;
    public const string ProcessingInstance = "conveyor-processing-instance";
    public const string Queue = FailureHeaders.Queue;
    public const string TimeSent = "conveyor-time-sent";
    public const string ProcessingStarted = "conveyor-processing-started";
    public const string ProcessingEnded = "conveyor-processing-ended";

    /// <summary>The messages the handler sent, as a JSON array of <c>{id, type, intent, destination, dueAt}</c>.</summary>
    public const string Outgoing = "conveyor-outgoing";

    /// <summary>The headers the message arrived with, as a JSON object.</summary>
    public const string OriginalHeaders = "conveyor-original-headers";

    // When a saga ran:

    public const string SagaType = "conveyor-saga-type";
    public const string SagaId = "conveyor-saga-id";

    /// <summary><c>created</c>, <c>updated</c> or <c>completed</c>.</summary>
    public const string SagaChange = "conveyor-saga-change";

    /// <summary>The saga's state after the step, as JSON.</summary>
    public const string SagaState = "conveyor-saga-state";

    public static class Intents
    {
        public const string Publish = "publish";
        public const string Send = "send";
        public const string Reply = "reply";
        public const string Scheduled = "scheduled";
        public const string Http = "http";
    }

    // A copy's headers must fit one AMQP frame (128 KB by default) together.

    /// <summary>Saga state past this many characters is not put in the copy.</summary>
    public const int MaxSagaStateLength = 32 * 1024;

    /// <summary>An original header's value is cut to this many characters in the copy.</summary>
    public const int MaxOriginalHeaderLength = 1024;

    /// <summary>The original headers are kept up to this many characters in all.</summary>
    public const int MaxOriginalHeadersLength = 32 * 1024;

    /// <summary>The copy lists this many of the messages a handler sent, at most.</summary>
    public const int MaxOutgoingListed = 100;
}

/// <summary>Auditing per endpoint (<c>Conveyor:Audit</c>): on unless <c>Enabled</c> is false.</summary>
public sealed class AuditOptions
{
    public const string Section = "Conveyor:Audit";

    public bool Enabled { get; set; } = true;

    public static AuditOptions From(IConfiguration configuration) => configuration.GetSection(Section).Get<AuditOptions>() ?? new AuditOptions();
}

/// <summary>
/// The copy of a handled message on its way to <c>audit</c>: the body as it arrived, byte for byte (the headers say
/// the rest). A Wolverine message, so that it leaves through the handler's outbox, in the handler's transaction:
/// a handled message is audited exactly when its effects commit, and a crash loses no copy.
/// </summary>
public sealed record AuditCopy(byte[] Body);

/// <summary>Writes an <see cref="AuditCopy"/> as the body it carries; nothing ever reads one back into an endpoint.</summary>
internal sealed class AuditCopySerializer : IMessageSerializer
{
    public string ContentType => "application/octet-stream";

    public byte[] Write(Envelope envelope) => ((AuditCopy)envelope.Message!).Body;

    public byte[] WriteMessage(object message) => ((AuditCopy)message).Body;

    public object ReadFromData(Type messageType, Envelope envelope) => new AuditCopy(envelope.Data ?? []);

    public object ReadFromData(byte[] data) => new AuditCopy(data);
}

internal static class Auditing
{
    public static void Configure(WolverineOptions opts, EndpointTopology endpoint, AuditOptions audit, Type dbContextType)
    {
        // Every endpoint stamps what it sends with its conversation and cause, audited or not: a failed message needs them too.
        opts.MetadataRules.Add(new Causation());
        if (endpoint.IsServiceControl) return;

        // The middleware is in every endpoint's handlers, and asks AuditOptions at run time: the handler code is
        // generated at build time, once for any configuration.
        // ServiceControl's own traffic (heartbeats, retry confirmations) belongs to no order: not audited.
        opts.Policies.AddMiddleware(typeof(AuditHandledMessages<>).MakeGenericType(dbContextType),
            chain => chain.MessageType.Namespace != ServiceControlContract.Namespace);
        if (audit.Enabled)
        {
            opts.PublishMessage<AuditCopy>().ToRabbitExchange(SystemTopology.AuditQueue).DefaultSerializer(new AuditCopySerializer());
        }
    }

    /// <summary>What an audit copy and a failed message both say about the message and where it was handled.</summary>
    public static void Describe(Envelope envelope, IDictionary<string, string?> headers, string processingEndpoint)
    {
        void Set(string name, string? value)
        {
            if (value is not null) headers[name] = value;
        }

        Set(AuditHeaders.MessageId, envelope.Id.ToString());
        Set(AuditHeaders.MessageType, envelope.Message?.GetType().FullName ?? envelope.MessageType);
        Set(AuditHeaders.CorrelationId, envelope.CorrelationId);
        Set(AuditHeaders.ContentType, envelope.ContentType);
        // A local message (a scheduled timeout) never left the endpoint; anything else says who the broker says sent it.
        Set(AuditHeaders.SendingEndpoint, envelope.Destination?.Scheme == "rabbitmq" ? BrokerIdentity.SenderOf(envelope) : processingEndpoint);
        Set(AuditHeaders.ProcessingEndpoint, processingEndpoint);
        Set(AuditHeaders.ProcessingInstance, Environment.MachineName);
        Set(AuditHeaders.Queue, envelope.Destination?.ToString());
        Set(AuditHeaders.TimeSent, envelope.SentAt.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture));
        foreach (var name in (string[])[AuditHeaders.ConversationId, AuditHeaders.RelatedTo, AuditHeaders.Intent])
        {
            Set(name, envelope.Headers.TryGetValue(name, out var value) ? value : null);
        }

        if (!headers.ContainsKey(AuditHeaders.ConversationId)) Set(AuditHeaders.ConversationId, envelope.CorrelationId);
    }

    /// <summary>
    /// The headers the message arrived with, each value cut to <see cref="AuditHeaders.MaxOriginalHeaderLength"/> and all
    /// of them to <see cref="AuditHeaders.MaxOriginalHeadersLength"/>: a copy's headers must fit one AMQP frame beside the
    /// saga's state, or the broker would refuse the copy (and close the connection) every time it is sent.
    /// </summary>
    public static string OriginalHeaders(Envelope envelope)
    {
        var kept = new Dictionary<string, string?>();
        var length = 0;
        foreach (var (name, value) in envelope.Headers)
        {
            var shown = value is { Length: > AuditHeaders.MaxOriginalHeaderLength } ? $"{value[..AuditHeaders.MaxOriginalHeaderLength]}… ({value.Length} characters)" : value;
            length += name.Length + (shown?.Length ?? 0);
            if (length > AuditHeaders.MaxOriginalHeadersLength)
            {
                kept["(cut)"] = $"{envelope.Headers.Count - kept.Count} more headers not kept";
                break;
            }

            kept[name] = shown;
        }

        return JsonSerializer.Serialize(kept);
    }

    /// <summary>The outgoing envelopes (the first <see cref="AuditHeaders.MaxOutgoingListed"/>) as the <see cref="AuditHeaders.Outgoing"/> JSON array.</summary>
    public static string Outgoing(IEnumerable<Envelope> outgoing) =>
        new JsonArray([.. outgoing.Where(e => e.Message is not AuditCopy).Take(AuditHeaders.MaxOutgoingListed).Select(e => (JsonNode)new JsonObject
        {
            ["id"] = e.Id.ToString(),
            ["type"] = e.Message?.GetType().FullName ?? e.MessageType,
            ["intent"] = e.Headers.TryGetValue(AuditHeaders.Intent, out var intent) ? intent : null,
            ["destination"] = e.Destination?.ToString(),
            ["dueAt"] = e.ScheduledTime?.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture),
        })]).ToJsonString();

    /// <summary>
    /// The message JSON settings, with times at PostgreSQL's precision (microseconds): the state as it is stored, so a
    /// step that changed nothing shows no change against the step before (whose state was read back from the database).
    /// </summary>
    private static readonly JsonSerializerOptions SagaStateJson = new(MessageJson.Options) { Converters = { new StoredTimeConverter() } };

    private sealed class StoredTimeConverter : System.Text.Json.Serialization.JsonConverter<DateTimeOffset>
    {
        public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDateTimeOffset();

        public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
            writer.WriteStringValue(value.AddTicks(-(value.Ticks % TimeSpan.TicksPerMicrosecond)));
    }

    /// <summary>The saga the step loaded, created or completed, if any, as EF Core tracks it.</summary>
    public static void DescribeSaga(DbContext db, IDictionary<string, string?> headers)
    {
        var entry = db.ChangeTracker.Entries().FirstOrDefault(e => e.Entity is Saga);
        if (entry is null) return;

        var saga = (Saga)entry.Entity;
        var key = entry.Metadata.FindPrimaryKey()?.Properties.Select(p => entry.Property(p.Name).CurrentValue?.ToString());
        headers[AuditHeaders.SagaType] = saga.GetType().FullName;
        headers[AuditHeaders.SagaId] = key is null ? null : string.Join(",", key);
        headers[AuditHeaders.SagaChange] = entry.State == EntityState.Added ? "created" : entry.State == EntityState.Deleted || saga.IsCompleted() ? "completed" : "updated";
        var state = JsonSerializer.Serialize(saga, saga.GetType(), SagaStateJson);
        headers[AuditHeaders.SagaState] = state.Length <= AuditHeaders.MaxSagaStateLength ? state : null;
    }

    public static DeliveryOptions Deliver(Dictionary<string, string?> headers, string? correlationId)
    {
        var options = new DeliveryOptions { CorrelationId = correlationId };
        foreach (var (name, value) in headers)
        {
            if (value is not null) options.Headers[name] = value;
        }

        return options;
    }

    public static string Now(TimeProvider clock) => clock.GetUtcNow().ToString("O", CultureInfo.InvariantCulture);

    /// <summary>
    /// Stamps every outgoing message with its conversation (the incoming message's, else the order's correlation id),
    /// its cause (the incoming message) and its intent, before it is stored in the outbox.
    /// </summary>
    private sealed class Causation : IEnvelopeRule
    {
        public void Modify(Envelope envelope) => Stamp(null, envelope);

        public void ApplyCorrelation(IMessageContext originator, Envelope outgoing) => Stamp(originator.Envelope, outgoing);

        private static void Stamp(Envelope? incoming, Envelope outgoing)
        {
            if (outgoing.Message is AuditCopy) return;
            var headers = outgoing.Headers;
            if (incoming is not null && incoming.Message?.GetType().Namespace != ServiceControlContract.Namespace)
            {
                headers[AuditHeaders.RelatedTo] = incoming.Id.ToString();
                if (incoming.Headers.TryGetValue(AuditHeaders.ConversationId, out var conversation) && !string.IsNullOrEmpty(conversation))
                {
                    headers[AuditHeaders.ConversationId] = conversation;
                }
            }

            if (!headers.ContainsKey(AuditHeaders.ConversationId) && outgoing.CorrelationId is { Length: > 0 } correlation) headers[AuditHeaders.ConversationId] = correlation;
            headers[AuditHeaders.Intent] = outgoing.ScheduledTime is not null ? AuditHeaders.Intents.Scheduled
                : outgoing.Message is ICommand ? AuditHeaders.Intents.Send
                : AuditHeaders.Intents.Publish;
        }
    }
}

/// <summary>
/// Wolverine middleware on every business handler of an audited endpoint: after the handler ran, and before its
/// transaction commits, a copy of the message goes to <c>audit</c> with when and where it was handled, what it sent
/// and the saga's state after the step. A handler that throws is not audited: its message goes to <c>error</c>.
/// </summary>
public static class AuditHandledMessages<TDb>
    where TDb : DbContext
{
    public static AuditProcessingStarted Before(TimeProvider clock) => new(Auditing.Now(clock));

    public static async Task After(Envelope envelope, IMessageContext context, TDb db, AuditProcessingStarted started, EndpointIdentity endpoint, TimeProvider clock, AuditOptions audit)
    {
        if (!audit.Enabled) return;
        var headers = new Dictionary<string, string?>();
        Auditing.Describe(envelope, headers, endpoint.Name);
        headers[AuditHeaders.ProcessingStarted] = started.At;
        headers[AuditHeaders.ProcessingEnded] = Auditing.Now(clock);
        headers[AuditHeaders.Outgoing] = Auditing.Outgoing(context is MessageBus bus ? bus.Outstanding : []);
        headers[AuditHeaders.OriginalHeaders] = Auditing.OriginalHeaders(envelope);
        Auditing.DescribeSaga(db, headers);
        await context.PublishAsync(new AuditCopy(envelope.Data ?? []), Auditing.Deliver(headers, envelope.CorrelationId));
    }
}

/// <summary>When the handler started, in <see cref="AuditHeaders.ProcessingStarted"/>'s format.</summary>
public readonly record struct AuditProcessingStarted(string At);

/// <summary>
/// An HTTP request that starts or moves an order: the first step of the order's conversation. What it sends is
/// related to it, and (when the endpoint audits) it is audited like a handled message, with the request as its body,
/// so the order's flow starts at the request and its saga's first step is there.
/// </summary>
public sealed class AuditedRequest
{
    private readonly HttpContext _http;
    private readonly string _useCase;
    private readonly string _startedAt;

    private AuditedRequest(HttpContext http, string useCase, string correlationId)
    {
        _http = http;
        _useCase = useCase;
        CorrelationId = correlationId;
        _startedAt = Auditing.Now(Clock);
    }

    public Guid Id { get; } = Guid.CreateVersion7();

    public string CorrelationId { get; }

    private TimeProvider Clock => _http.RequestServices.GetRequiredService<TimeProvider>();

    /// <param name="useCase">What the request does, e.g. <c>PlaceOrder</c>: the type its audit record shows.</param>
    /// <param name="correlationId">The order it is about, which starts the conversation.</param>
    public static AuditedRequest Start(HttpContext http, string useCase, string correlationId) => new(http, useCase, correlationId);

    /// <summary>How to send what the request causes: correlated with the order, related to the request, in its conversation.</summary>
    public DeliveryOptions Deliver() => new()
    {
        CorrelationId = CorrelationId,
        Headers = { [AuditHeaders.ConversationId] = CorrelationId, [AuditHeaders.RelatedTo] = Id.ToString() },
    };

    /// <summary>Sends the request's audit copy through <paramref name="outbox"/>, before the transaction that carries its effects commits.</summary>
    public async Task AuditAsync(IMessageBus outbox, DbContext db, object request)
    {
        var services = _http.RequestServices;
        if (!services.GetRequiredService<AuditOptions>().Enabled) return;

        var endpoint = services.GetRequiredService<EndpointIdentity>().Name;
        var headers = new Dictionary<string, string?>
        {
            [AuditHeaders.MessageId] = Id.ToString(),
            [AuditHeaders.MessageType] = _useCase,
            [AuditHeaders.CorrelationId] = CorrelationId,
            [AuditHeaders.ConversationId] = CorrelationId,
            [AuditHeaders.Intent] = AuditHeaders.Intents.Http,
            [AuditHeaders.ContentType] = "application/json",
            [AuditHeaders.ProcessingEndpoint] = endpoint,
            [AuditHeaders.ProcessingInstance] = Environment.MachineName,
            [AuditHeaders.Queue] = $"{_http.Request.Method} {_http.Request.Path}",
            [AuditHeaders.TimeSent] = _startedAt,
            [AuditHeaders.ProcessingStarted] = _startedAt,
            [AuditHeaders.ProcessingEnded] = Auditing.Now(Clock),
            [AuditHeaders.Outgoing] = Auditing.Outgoing(outbox is MessageBus bus ? bus.Outstanding : []),
        };
        Auditing.DescribeSaga(db, headers);
        var body = JsonSerializer.SerializeToUtf8Bytes(request, request.GetType(), MessageJson.Options);
        await outbox.PublishAsync(new AuditCopy(body), Auditing.Deliver(headers, CorrelationId));
    }
}
