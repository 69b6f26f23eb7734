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
    string? Body,
    bool BodyIsJson,
    int BodyBytes,
    IReadOnlyDictionary<string, string?> Headers,
    MessageProperties Properties,
    string? Resolution,
    Guid? EditedAs,
    DateTimeOffset StatusChangedAt,
    IReadOnlyList<FailureView> Failures,
    string? StorageNote,
    string? StatusNote,
    DateTimeOffset? DeletedAfter);

public sealed record Page<T>(IReadOnlyList<T> Items, int Total, int PageNumber, int PageSize)
{
    public int Pages => Math.Max(1, (Total + PageSize - 1) / PageSize);
}

public sealed record FailedMessageCounts(int Unresolved, int RetryIssued, int Resolved, int Archived, int Rejected);

/// <summary>What operators read: lists with paging, one message in full, counts per status.</summary>
public sealed class FailedMessageQueries(ServiceControlDb db, ServiceControlOptions options)
{
    public const int MaxPageSize = 500;

    /// <summary>The last page anyone may ask for: its offset always fits (and no store keeps a million pages of failures).</summary>
    public const int MaxPage = 1_000_000;

    /// <summary>A message's list entry, translated to SQL.</summary>
    private static readonly System.Linq.Expressions.Expression<Func<FailedMessage, FailedMessageSummary>> Summary = m =>
        new FailedMessageSummary(m.Id, m.MessageId, m.MessageType, m.Endpoint, m.Queue, m.CorrelationId, m.ExceptionType, m.ExceptionMessage, m.Status, m.FailureCount, m.RetryCount, m.FirstFailedAt, m.LastFailedAt);

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
        // The body comes out of PostgreSQL only when it is small enough to show: a page refreshing every few seconds
        // never reads megabytes.
        var limit = options.MaxInlineBodyBytes;
        var m = await db.FailedMessages.AsNoTracking().Where(x => x.Id == id).Select(x => new
        {
            Summary = new FailedMessageSummary(x.Id, x.MessageId, x.MessageType, x.Endpoint, x.Queue, x.CorrelationId, x.ExceptionType, x.ExceptionMessage, x.Status, x.FailureCount, x.RetryCount, x.FirstFailedAt, x.LastFailedAt),
            x.StackTrace,
            Body = x.Body.Length <= limit ? x.Body : null,
            BodyBytes = x.Body.Length,
            x.Headers,
            x.Properties,
            x.Resolution,
            x.EditedAs,
            x.StatusChangedAt,
            Failures = x.Failures.OrderByDescending(f => f.Number).Select(f => new FailureView(f.Number, f.FailedAt, f.Endpoint, f.Attempts, f.ExceptionType, f.ExceptionMessage, f.StackTrace)).ToList(),
            x.StorageNote,
            x.StatusNote,
        }).SingleOrDefaultAsync(cancellation);
        if (m is null) return null;
        var (body, isJson) = m.Body is null ? (null, m.Properties.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true) : Display(m.Body);
        return new FailedMessageDetail(
            m.Summary,
            m.StackTrace,
            body,
            isJson,
            m.BodyBytes,
            new SortedDictionary<string, string?>(m.Headers, StringComparer.Ordinal),
            m.Properties,
            m.Resolution,
            m.EditedAs,
            m.StatusChangedAt,
            m.Failures,
            m.StorageNote,
            m.StatusNote,
            DeletedAfter(m.Summary.Status, m.Summary.LastFailedAt, m.StatusChangedAt));
    }

    /// <summary>When the retention job will delete a message in this state, if it will (see <see cref="PurgeExpiredMessages"/>).</summary>
    private DateTimeOffset? DeletedAfter(FailedMessageStatus status, DateTimeOffset lastFailedAt, DateTimeOffset statusChangedAt) => status switch
    {
        FailedMessageStatus.Unresolved => lastFailedAt + options.UnresolvedRetentionPeriod,
        FailedMessageStatus.RetryIssued => null,
        _ => statusChangedAt + options.RetentionPeriod,
    };

    /// <summary>A message's body exactly as it failed, whatever its size, with the content type it was sent with.</summary>
    public async Task<(byte[] Body, string? ContentType)?> BodyAsync(Guid id, CancellationToken cancellation)
    {
        var m = await db.FailedMessages.AsNoTracking().Where(x => x.Id == id).Select(x => new { x.Body, x.Properties }).SingleOrDefaultAsync(cancellation);
        return m is null ? null : (m.Body, m.Properties.ContentType);
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
