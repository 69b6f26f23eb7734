using System.Text.Json;
using Conveyor.Hosting;
using Conveyor.ServiceControl.FailedMessages;
using Microsoft.EntityFrameworkCore;

namespace Conveyor.ServiceControl.Audit;

/// <summary>A message as a list, a flow or a saga step shows it.</summary>
public sealed record MessageSummary(
    Guid Id,
    string MessageId,
    string? MessageType,
    string ShortType,
    string Kind,
    string? Intent,
    MessageOutcome Outcome,
    string ProcessingEndpoint,
    string? SendingEndpoint,
    string? ConversationId,
    string? CorrelationId,
    string? RelatedTo,
    DateTimeOffset? TimeSent,
    DateTimeOffset? ProcessingStarted,
    DateTimeOffset? ProcessingEnded,
    double? ProcessingMilliseconds,
    double? CriticalMilliseconds,
    string? SagaType,
    string? SagaId,
    string? SagaChange,
    Guid? FailedMessageId);

/// <summary>What a handler sent, from the audit contract's <see cref="AuditHeaders.Outgoing"/> header.</summary>
public sealed record OutgoingMessage(string Id, string? Type, string? Intent, string? Destination, DateTimeOffset? DueAt)
{
    public string ShortType => ProcessedMessage.ShortTypeOf(Type);

    public static IReadOnlyList<OutgoingMessage> Parse(string? json)
    {
        if (string.IsNullOrEmpty(json)) return [];
        try
        {
            return JsonSerializer.Deserialize<List<OutgoingMessage>>(json, JsonSerializerOptions.Web) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}

/// <summary>One message record in full: its summary, headers, body (when small enough to show) and what it sent.</summary>
public sealed record MessageDetail(
    MessageSummary Message,
    string? Queue,
    string? ProcessingInstance,
    Dictionary<string, string?> Headers,
    string? ContentType,
    int BodySize,
    bool BodyStored,
    string? Body,
    string? SagaState,
    IReadOnlyList<OutgoingMessage> Outgoing);

/// <summary>A message a handler sent that no endpoint has reported handling (a timeout not yet due, a copy still on its way).</summary>
public sealed record PendingMessage(OutgoingMessage Message, Guid SentBy);

/// <summary>Every record of one conversation (an order's), oldest first, and what was sent but not handled yet.</summary>
public sealed record Conversation(string Id, IReadOnlyList<MessageSummary> Messages, IReadOnlyList<PendingMessage> Pending, bool Truncated);

/// <summary>One field of a saga's state that a step changed: its JSON path, before and after (null when absent).</summary>
public sealed record StateChange(string Path, string? Before, string? After);

/// <summary>What a saga step sent, and whether it has been handled (by any endpoint).</summary>
public sealed record SentBySaga(OutgoingMessage Message, bool Handled);

/// <summary>A step of a saga instance: the message that caused it, what it did to the state, what it sent.</summary>
public sealed record SagaStep(MessageSummary Message, string Change, string? State, IReadOnlyList<StateChange> Changes, IReadOnlyList<SentBySaga> Sent);

public sealed record SagaHistory(string SagaId, string? SagaType, IReadOnlyList<SagaStep> Steps);

public enum MessageSort
{
    TimeSent,
    ProcessingTime,
    CriticalTime,
}

/// <summary>The searches behind the API's <c>/api/messages</c>, <c>/api/conversations</c> and <c>/api/sagas</c>, and Pulse's pages.</summary>
public sealed class MessageQueries(ServiceControlDb db, ServiceControlOptions options)
{
    /// <summary>A search counts its matches up to this many; past it the total says "more than".</summary>
    public const int MaxCounted = 10_000;

    /// <summary>The most records a conversation or a saga's history returns.</summary>
    public const int MaxConversationSize = 1_000;

    /// <summary>A record's summary with what it sent and its saga state, translated to SQL.</summary>
    private sealed record Row(MessageSummary Summary, string? Outgoing, string? SagaState);

    private static readonly System.Linq.Expressions.Expression<Func<ProcessedMessage, Row>> Rows = m => new Row(
        new MessageSummary(
            m.Id, m.MessageId, m.MessageType, "", "", m.Intent, m.Outcome, m.ProcessingEndpoint, m.SendingEndpoint, m.ConversationId, m.CorrelationId,
            m.RelatedTo, m.TimeSent, m.ProcessingStarted, m.ProcessingEnded, m.ProcessingMilliseconds, m.CriticalMilliseconds, m.SagaType, m.SagaId,
            m.SagaChange, m.FailedMessageId),
        m.Outgoing,
        m.SagaState);

    /// <param name="text">Free text over the type, the ids, the correlation id and the body (PostgreSQL's web search syntax).</param>
    public async Task<Page<MessageSummary>> SearchAsync(
        string? text, string? endpoint, DateTimeOffset? from, DateTimeOffset? to, MessageSort sort, bool ascending, int page, int pageSize, CancellationToken cancellation)
    {
        var messages = db.ProcessedMessages.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(text)) messages = messages.Where(m => m.Search.Matches(EF.Functions.WebSearchToTsQuery("simple", text)));
        if (!string.IsNullOrWhiteSpace(endpoint)) messages = messages.Where(m => m.ProcessingEndpoint == endpoint);
        if (from is { } after) messages = messages.Where(m => m.TimeSent >= after);
        if (to is { } before) messages = messages.Where(m => m.TimeSent < before);

        var total = await messages.Take(MaxCounted + 1).CountAsync(cancellation);
        var ordered = (sort, ascending) switch
        {
            (MessageSort.ProcessingTime, true) => messages.OrderBy(m => m.ProcessingMilliseconds),
            (MessageSort.ProcessingTime, false) => messages.OrderByDescending(m => m.ProcessingMilliseconds),
            (MessageSort.CriticalTime, true) => messages.OrderBy(m => m.CriticalMilliseconds),
            (MessageSort.CriticalTime, false) => messages.OrderByDescending(m => m.CriticalMilliseconds),
            (_, true) => messages.OrderBy(m => m.TimeSent),
            _ => messages.OrderByDescending(m => m.TimeSent),
        };
        var items = await ordered.ThenBy(m => m.Id).Skip((page - 1) * pageSize).Take(pageSize).Select(Rows).ToListAsync(cancellation);
        return new Page<MessageSummary>(items.Select(r => Complete(r.Summary)).ToList(), total, page, pageSize);
    }

    public async Task<MessageDetail?> GetAsync(Guid id, CancellationToken cancellation)
    {
        var row = await db.ProcessedMessages.AsNoTracking().Where(m => m.Id == id).Select(Rows).SingleOrDefaultAsync(cancellation);
        if (row is null) return null;
        var message = await db.ProcessedMessages.AsNoTracking().Where(m => m.Id == id)
            .Select(m => new
            {
                m.Queue, m.ProcessingInstance, m.Headers, m.ContentType, m.BodySize,
                Stored = m.Body != null,
                // Past the inline bound the body stays in the database: it is downloaded, not carried by every page.
                Body = m.BodySize <= options.MaxInlineBodyBytes ? m.Body : null,
            })
            .SingleAsync(cancellation);
        var body = message.Body is null ? null : System.Text.Encoding.UTF8.GetString(message.Body);
        return new MessageDetail(Complete(row.Summary), message.Queue, message.ProcessingInstance, message.Headers, message.ContentType, message.BodySize,
            message.Stored, body, row.SagaState, OutgoingMessage.Parse(row.Outgoing));
    }

    public async Task<(byte[] Body, string? ContentType)?> BodyAsync(Guid id, CancellationToken cancellation)
    {
        var found = await db.ProcessedMessages.AsNoTracking().Where(m => m.Id == id && m.Body != null).Select(m => new { m.Body, m.ContentType }).SingleOrDefaultAsync(cancellation);
        return found is null ? null : (found.Body!, found.ContentType);
    }

    /// <summary>The records of every endpoint's handling of the message with this id (an event has one per subscriber).</summary>
    public async Task<IReadOnlyList<MessageSummary>> ByMessageIdAsync(string messageId, CancellationToken cancellation) =>
        (await db.ProcessedMessages.AsNoTracking().Where(m => m.MessageId == messageId).OrderBy(m => m.ProcessingStarted).Select(Rows).ToListAsync(cancellation))
            .Select(r => Complete(r.Summary)).ToList();

    public async Task<Conversation?> ConversationAsync(string id, CancellationToken cancellation)
    {
        var records = await db.ProcessedMessages.AsNoTracking().Where(m => m.ConversationId == id)
            .OrderBy(m => m.TimeSent).ThenBy(m => m.ProcessingStarted).Take(MaxConversationSize + 1)
            .Select(Rows).ToListAsync(cancellation);
        if (records.Count == 0) return null;

        var truncated = records.Count > MaxConversationSize;
        if (truncated) records.RemoveAt(records.Count - 1);
        var handled = records.Select(r => r.Summary.MessageId).ToHashSet();
        var pending = records
            .SelectMany(r => OutgoingMessage.Parse(r.Outgoing).Where(o => !handled.Contains(o.Id)).Select(o => new PendingMessage(o, r.Summary.Id)))
            .ToList();
        return new Conversation(id, records.Select(r => Complete(r.Summary)).ToList(), pending, truncated);
    }

    public async Task<SagaHistory?> SagaAsync(string sagaId, CancellationToken cancellation)
    {
        var steps = await db.ProcessedMessages.AsNoTracking().Where(m => m.SagaId == sagaId && m.SagaChange != null)
            .OrderBy(m => m.ProcessingStarted).ThenBy(m => m.Id).Take(MaxConversationSize)
            .Select(Rows).ToListAsync(cancellation);
        if (steps.Count == 0) return null;

        // Whether what a step sent was handled: by any endpoint, in the same conversation.
        var sentIds = steps.SelectMany(s => OutgoingMessage.Parse(s.Outgoing)).Select(o => o.Id).Distinct().ToList();
        var handled = (await db.ProcessedMessages.AsNoTracking().Where(m => sentIds.Contains(m.MessageId) && m.Outcome == MessageOutcome.Processed)
            .Select(m => m.MessageId).ToListAsync(cancellation)).ToHashSet();

        string? before = null;
        var history = new List<SagaStep>();
        foreach (var step in steps)
        {
            var sent = OutgoingMessage.Parse(step.Outgoing).Select(o => new SentBySaga(o, handled.Contains(o.Id))).ToList();
            history.Add(new SagaStep(Complete(step.Summary), step.Summary.SagaChange!, step.SagaState, StateDiff.Between(before, step.SagaState), sent));
            before = step.SagaState ?? before;
        }

        return new SagaHistory(sagaId, steps[0].Summary.SagaType, history);
    }

    /// <summary>The short type and kind, which SQL does not compute.</summary>
    private static MessageSummary Complete(MessageSummary summary) =>
        summary with { ShortType = ProcessedMessage.ShortTypeOf(summary.MessageType), Kind = ProcessedMessage.KindOf(summary.Intent) };
}

/// <summary>What changed between two JSON documents, field by field (by JSON path), for the saga view.</summary>
public static class StateDiff
{
    public static IReadOnlyList<StateChange> Between(string? before, string? after)
    {
        var old = Flatten(before);
        var now = Flatten(after);
        var changes = new List<StateChange>();
        foreach (var (path, value) in now)
        {
            if (!old.TryGetValue(path, out var previous)) changes.Add(new StateChange(path, null, value));
            else if (previous != value) changes.Add(new StateChange(path, previous, value));
        }

        changes.AddRange(old.Where(o => !now.ContainsKey(o.Key)).Select(o => new StateChange(o.Key, o.Value, null)));
        return changes.OrderBy(c => c.Path, StringComparer.Ordinal).ToList();
    }

    /// <summary>Every leaf of the document by its path (<c>timeline[1].status</c>), as JSON text.</summary>
    public static IReadOnlyDictionary<string, string> Flatten(string? json)
    {
        var leaves = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(json)) return leaves;
        try
        {
            using var document = JsonDocument.Parse(json);
            Walk(document.RootElement, "", leaves);
        }
        catch (JsonException)
        {
            leaves["$"] = json;
        }

        return leaves;
    }

    private static void Walk(JsonElement element, string path, Dictionary<string, string> leaves)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject()) Walk(property.Value, path.Length == 0 ? property.Name : $"{path}.{property.Name}", leaves);
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray()) Walk(item, $"{path}[{index++}]", leaves);
                break;
            default:
                leaves[path.Length == 0 ? "$" : path] = element.GetRawText();
                break;
        }
    }
}
