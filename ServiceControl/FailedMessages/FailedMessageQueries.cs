using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;

namespace Conveyor.ServiceControl.FailedMessages;

public sealed record FailedMessageSummary(
    Guid Id,
    string MessageId,
    string? MessageType,
    string? Endpoint,
    string? Queue,
    string? CorrelationId,
    string ExceptionType,
    string ExceptionMessage,
    FailedMessageStatus Status,
    int FailureCount,
    int RetryCount,
    DateTimeOffset FirstFailedAt,
    DateTimeOffset LastFailedAt);

public sealed record FailureView(int Number, DateTimeOffset FailedAt, string? Endpoint, int? Attempts, string ExceptionType, string ExceptionMessage, string StackTrace);

public sealed record FailedMessageDetail(
    FailedMessageSummary Summary,
    string StackTrace,
    string Body,
    bool BodyIsJson,
    IReadOnlyDictionary<string, string?> Headers,
    MessageProperties Properties,
    string? Resolution,
    Guid? EditedAs,
    DateTimeOffset StatusChangedAt,
    IReadOnlyList<FailureView> Failures,
    string? StorageNote,
    string? StatusNote);

public sealed record Page<T>(IReadOnlyList<T> Items, int Total, int PageNumber, int PageSize)
{
    public int Pages => Math.Max(1, (Total + PageSize - 1) / PageSize);
}

public sealed record FailedMessageCounts(int Unresolved, int RetryIssued, int Resolved, int Archived, int Rejected);

/// <summary>What operators read: lists with paging, one message in full, counts per status.</summary>
public sealed class FailedMessageQueries(ServiceControlDb db)
{
    public const int MaxPageSize = 500;

    /// <summary>The last page anyone may ask for: its offset always fits (and no store keeps a million pages of failures).</summary>
    public const int MaxPage = 1_000_000;

    /// <summary>A message's list entry: translated to SQL for the lists, compiled for the detail.</summary>
    private static readonly System.Linq.Expressions.Expression<Func<FailedMessage, FailedMessageSummary>> Summary = m =>
        new FailedMessageSummary(m.Id, m.MessageId, m.MessageType, m.Endpoint, m.Queue, m.CorrelationId, m.ExceptionType, m.ExceptionMessage, m.Status, m.FailureCount, m.RetryCount, m.FirstFailedAt, m.LastFailedAt);

    private static readonly Func<FailedMessage, FailedMessageSummary> SummaryOf = Summary.Compile();

    public async Task<Page<FailedMessageSummary>?> ListAsync(FailedMessageStatus status, string? groupId, int page, int pageSize, CancellationToken cancellation)
    {
        IQueryable<FailedMessage> messages = db.FailedMessages.AsNoTracking().Where(m => m.Status == status);
        if (groupId is not null)
        {
            var group = await FailureGroups.FindAsync(db, groupId, status, cancellation);
            if (group is null) return null;
            messages = group.Value.Members.AsNoTracking();
        }

        pageSize = Math.Clamp(pageSize, 1, MaxPageSize);
        page = Math.Max(1, page);
        var total = await messages.CountAsync(cancellation);
        var items = await messages.OrderByDescending(m => m.LastFailedAt).ThenBy(m => m.Id)
            .Skip((page - 1) * pageSize).Take(pageSize)
            .Select(Summary)
            .ToListAsync(cancellation);
        return new Page<FailedMessageSummary>(items, total, page, pageSize);
    }

    public async Task<FailedMessageDetail?> GetAsync(Guid id, CancellationToken cancellation)
    {
        var m = await db.FailedMessages.AsNoTracking().Include(x => x.Failures).SingleOrDefaultAsync(x => x.Id == id, cancellation);
        if (m is null) return null;
        var (body, isJson) = Display(m.Body);
        return new FailedMessageDetail(
            SummaryOf(m),
            m.StackTrace,
            body,
            isJson,
            new SortedDictionary<string, string?>(m.Headers, StringComparer.Ordinal),
            m.Properties,
            m.Resolution,
            m.EditedAs,
            m.StatusChangedAt,
            m.Failures.OrderByDescending(f => f.Number).Select(f => new FailureView(f.Number, f.FailedAt, f.Endpoint, f.Attempts, f.ExceptionType, f.ExceptionMessage, f.StackTrace)).ToList(),
            m.StorageNote,
            m.StatusNote);
    }

    public async Task<FailedMessageCounts> CountsAsync(CancellationToken cancellation)
    {
        var counts = await db.FailedMessages.GroupBy(m => m.Status).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(c => c.Key, c => c.Count, cancellation);
        return new FailedMessageCounts(
            counts.GetValueOrDefault(FailedMessageStatus.Unresolved),
            counts.GetValueOrDefault(FailedMessageStatus.RetryIssued),
            counts.GetValueOrDefault(FailedMessageStatus.Resolved),
            counts.GetValueOrDefault(FailedMessageStatus.Archived),
            counts.GetValueOrDefault(FailedMessageStatus.Rejected));
    }

    /// <summary>The body as text, pretty-printed when it is JSON.</summary>
    internal static (string Text, bool IsJson) Display(byte[] body)
    {
        var text = Encoding.UTF8.GetString(body);
        try
        {
            using var document = JsonDocument.Parse(body);
            return (JsonSerializer.Serialize(document.RootElement, PrettyJson), true);
        }
        catch (JsonException)
        {
            return (text, false);
        }
    }

    private static readonly JsonSerializerOptions PrettyJson = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
