using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;

namespace Conveyor.ServiceControl.FailedMessages;

/// <summary>A set of failed messages that share a cause, to be looked at and acted on together.</summary>
public sealed record FailureGroup(string Id, string Classifier, string Title, int Count, DateTimeOffset FirstFailureAt, DateTimeOffset LastFailureAt);

/// <summary>
/// The ways failures are grouped. The default, exception type + message type, puts "the payment provider
/// was down while charging OrderPlaced" in one group, whichever order it was.
/// </summary>
public static class FailureGroups
{
    public const string ByExceptionAndMessageType = "exception-and-message-type";
    public const string ByMessageType = "message-type";
    public const string ByEndpoint = "endpoint";
    public const string ByExceptionMessage = "exception-message";

    public static readonly IReadOnlyDictionary<string, string> Classifiers = new Dictionary<string, string>
    {
        [ByExceptionAndMessageType] = "Exception type and message type",
        [ByMessageType] = "Message type",
        [ByEndpoint] = "Endpoint",
        [ByExceptionMessage] = "Exception message",
    };

    private const string Unknown = "(unknown)";

    public static bool IsClassifier(string? name) => name is not null && Classifiers.ContainsKey(name);

    /// <summary>
    /// One page of the groups of messages in <paramref name="status"/>, largest first. Grouped, counted, sorted and
    /// paged by PostgreSQL: grouping by exception message can make a group of every failure.
    /// </summary>
    public static async Task<Page<FailureGroup>> ListAsync(ServiceControlDb db, string classifier, FailedMessageStatus status, int page, int pageSize, CancellationToken cancellation)
    {
        var rows = RowsOf(db, classifier, status);
        var total = await rows.CountAsync(cancellation);
        var items = await rows.OrderByDescending(r => r.Count).ThenByDescending(r => r.Last).ThenBy(r => r.A).ThenBy(r => r.B)
            .Skip((page - 1) * pageSize).Take(pageSize)
            .ToListAsync(cancellation);
        return new Page<FailureGroup>([.. items.Select(r => new FailureGroup(IdOf(classifier, r.A, r.B), classifier, TitleOf(classifier, r.A, r.B), r.Count, r.First, r.Last))], total, page, pageSize);
    }

    private static IQueryable<GroupRow> RowsOf(ServiceControlDb db, string classifier, FailedMessageStatus status)
    {
        var messages = db.FailedMessages.Where(m => m.Status == status);
        return classifier switch
        {
            ByExceptionAndMessageType => messages.GroupBy(m => new { A = m.ExceptionType, B = m.MessageType ?? Unknown })
                .Select(g => new GroupRow { A = g.Key.A, B = g.Key.B, Count = g.Count(), First = g.Min(m => m.FirstFailedAt), Last = g.Max(m => m.LastFailedAt) }),
            ByMessageType => messages.GroupBy(m => m.MessageType ?? Unknown)
                .Select(g => new GroupRow { A = g.Key, B = null, Count = g.Count(), First = g.Min(m => m.FirstFailedAt), Last = g.Max(m => m.LastFailedAt) }),
            ByEndpoint => messages.GroupBy(m => m.Endpoint ?? Unknown)
                .Select(g => new GroupRow { A = g.Key, B = null, Count = g.Count(), First = g.Min(m => m.FirstFailedAt), Last = g.Max(m => m.LastFailedAt) }),
            ByExceptionMessage => messages.GroupBy(m => m.ExceptionMessage)
                .Select(g => new GroupRow { A = g.Key, B = null, Count = g.Count(), First = g.Min(m => m.FirstFailedAt), Last = g.Max(m => m.LastFailedAt) }),
            _ => throw new ArgumentOutOfRangeException(nameof(classifier), classifier, "not a classifier"),
        };
    }

    /// <summary>The group <paramref name="groupId"/> among messages in <paramref name="status"/>, with a query for its members; null if there is no such group.</summary>
    public static async Task<(FailureGroup Group, IQueryable<FailedMessage> Members)?> FindAsync(ServiceControlDb db, string groupId, FailedMessageStatus status, CancellationToken cancellation)
    {
        var classifier = Classifiers.Keys.FirstOrDefault(c => groupId.StartsWith(c + ":", StringComparison.Ordinal));
        if (classifier is null) return null;
        var hash = groupId[(classifier.Length + 1)..];
        if (hash.Length != 16 || !hash.All(char.IsAsciiHexDigitLower)) return null;

        // The id is a hash of the group's key: PostgreSQL hashes every key (as IdOf does) to find it, so no
        // group list is loaded to look one up.
        var (a, b) = KeyColumns[classifier];
        // Only this class's constant key expressions are spliced in; the status and the hash are parameters.
        var sql = $$"""
            select k.a as "A", k.b as "B" from (select distinct {{a}} as a, {{b}} as b from failed_messages where status = {0}) k
            where left(encode(sha256(convert_to(k.a || E'\n' || coalesce(k.b, ''), 'UTF8')), 'hex'), 16) = {1}
            limit 1
            """;
        var keys = await db.Database.SqlQueryRaw<GroupKey>(sql, status.ToString(), hash).ToListAsync(cancellation);
        if (keys.Count == 0) return null;

        var key = keys[0];
        var messages = db.FailedMessages.Where(m => m.Status == status);
        IQueryable<FailedMessage> members = classifier switch
        {
            ByExceptionAndMessageType => messages.Where(m => m.ExceptionType == key.A && (m.MessageType ?? Unknown) == key.B),
            ByMessageType => messages.Where(m => (m.MessageType ?? Unknown) == key.A),
            ByEndpoint => messages.Where(m => (m.Endpoint ?? Unknown) == key.A),
            _ => messages.Where(m => m.ExceptionMessage == key.A),
        };
        var count = await members.CountAsync(cancellation);
        if (count == 0) return null;
        var first = await members.MinAsync(m => m.FirstFailedAt, cancellation);
        var last = await members.MaxAsync(m => m.LastFailedAt, cancellation);
        return (new FailureGroup(groupId, classifier, TitleOf(classifier, key.A, key.B), count, first, last), members);
    }

    /// <summary>Each classifier's key as SQL over failed_messages, the same expressions as <see cref="RowsOf"/>.</summary>
    private static readonly Dictionary<string, (string A, string B)> KeyColumns = new()
    {
        [ByExceptionAndMessageType] = ("exception_type", $"coalesce(message_type, '{Unknown}')"),
        [ByMessageType] = ($"coalesce(message_type, '{Unknown}')", "null::text"),
        [ByEndpoint] = ($"coalesce(endpoint, '{Unknown}')", "null::text"),
        [ByExceptionMessage] = ("exception_message", "null::text"),
    };

    private static string TitleOf(string classifier, string a, string? b) => classifier == ByExceptionAndMessageType ? $"{a} in {b}" : a;

    /// <summary>Stable across requests and processes: the classifier, then a hash of the group's key.</summary>
    private static string IdOf(string classifier, string a, string? b) =>
        $"{classifier}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{a}\n{b}")))[..16]}";

    private sealed class GroupRow
    {
        public required string A { get; init; }
        public string? B { get; init; }
        public int Count { get; init; }
        public DateTimeOffset First { get; init; }
        public DateTimeOffset Last { get; init; }
    }

    private sealed class GroupKey
    {
        public required string A { get; init; }
        public string? B { get; init; }
    }
}
