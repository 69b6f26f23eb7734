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

    /// <summary>The groups of messages in <paramref name="status"/>, largest first.</summary>
    public static async Task<IReadOnlyList<FailureGroup>> ListAsync(ServiceControlDb db, string classifier, FailedMessageStatus status, CancellationToken cancellation) =>
        (await KeyedAsync(db, classifier, status, cancellation)).Select(k => k.Group).ToList();

    private static async Task<List<(FailureGroup Group, string A, string? B)>> KeyedAsync(ServiceControlDb db, string classifier, FailedMessageStatus status, CancellationToken cancellation)
    {
        var messages = db.FailedMessages.Where(m => m.Status == status);
        var rows = classifier switch
        {
            ByExceptionAndMessageType => await messages.GroupBy(m => new { A = m.ExceptionType, B = m.MessageType ?? Unknown })
                .Select(g => new GroupRow(g.Key.A, g.Key.B, g.Count(), g.Min(m => m.FirstFailedAt), g.Max(m => m.LastFailedAt))).ToListAsync(cancellation),
            ByMessageType => await messages.GroupBy(m => m.MessageType ?? Unknown)
                .Select(g => new GroupRow(g.Key, null, g.Count(), g.Min(m => m.FirstFailedAt), g.Max(m => m.LastFailedAt))).ToListAsync(cancellation),
            ByEndpoint => await messages.GroupBy(m => m.Endpoint ?? Unknown)
                .Select(g => new GroupRow(g.Key, null, g.Count(), g.Min(m => m.FirstFailedAt), g.Max(m => m.LastFailedAt))).ToListAsync(cancellation),
            ByExceptionMessage => await messages.GroupBy(m => m.ExceptionMessage)
                .Select(g => new GroupRow(g.Key, null, g.Count(), g.Min(m => m.FirstFailedAt), g.Max(m => m.LastFailedAt))).ToListAsync(cancellation),
            _ => throw new ArgumentOutOfRangeException(nameof(classifier), classifier, "not a classifier"),
        };

        return rows
            .Select(r => (new FailureGroup(IdOf(classifier, r.A, r.B), classifier, TitleOf(classifier, r.A, r.B), r.Count, r.First, r.Last), r.A, r.B))
            .OrderByDescending(g => g.Item1.Count).ThenByDescending(g => g.Item1.LastFailureAt)
            .ToList();
    }

    /// <summary>The group <paramref name="groupId"/> among messages in <paramref name="status"/>, with a query for its members; null if there is no such group.</summary>
    public static async Task<(FailureGroup Group, IQueryable<FailedMessage> Members)?> FindAsync(ServiceControlDb db, string groupId, FailedMessageStatus status, CancellationToken cancellation)
    {
        var classifier = Classifiers.Keys.FirstOrDefault(c => groupId.StartsWith(c + ":", StringComparison.Ordinal));
        if (classifier is null) return null;

        var found = (await KeyedAsync(db, classifier, status, cancellation)).Where(g => g.Group.Id == groupId).ToList();
        if (found.Count == 0) return null;

        var (group, a, b) = found[0];
        var messages = db.FailedMessages.Where(m => m.Status == status);
        IQueryable<FailedMessage> members = classifier switch
        {
            ByExceptionAndMessageType => messages.Where(m => m.ExceptionType == a && (m.MessageType ?? Unknown) == b),
            ByMessageType => messages.Where(m => (m.MessageType ?? Unknown) == a),
            ByEndpoint => messages.Where(m => (m.Endpoint ?? Unknown) == a),
            _ => messages.Where(m => m.ExceptionMessage == a),
        };
        return (group, members);
    }

    private static string TitleOf(string classifier, string a, string? b) => classifier == ByExceptionAndMessageType ? $"{a} in {b}" : a;

    /// <summary>Stable across requests and processes: the classifier, then a hash of the group's key.</summary>
    private static string IdOf(string classifier, string a, string? b) =>
        $"{classifier}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{a}\n{b}")))[..16]}";

    private sealed record GroupRow(string A, string? B, int Count, DateTimeOffset First, DateTimeOffset Last);
}
