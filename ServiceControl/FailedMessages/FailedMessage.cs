namespace Conveyor.ServiceControl.FailedMessages;

public enum FailedMessageStatus
{
    /// <summary>In the list, waiting for an operator.</summary>
    Unresolved,

    /// <summary>Sent back to its queue; resolved once the endpoint confirms it handled it.</summary>
    RetryIssued,

    /// <summary>Handled after a retry, or replaced by an edited copy.</summary>
    Resolved,

    /// <summary>Put aside by an operator: not retried, not listed with the failures.</summary>
    Archived,

    /// <summary>
    /// Refused on arrival: not put into <c>error</c> by the endpoint that owns the queue it names (a forgery, or a
    /// message misrouted there). Kept for an operator to see, never retried, purged like resolved ones.
    /// </summary>
    Rejected,
}

/// <summary>
/// A message that landed in <c>error</c>: its exact bytes, headers and broker properties (so a retry
/// re-sends the very message), the latest failure, and every failure before it.
/// </summary>
public sealed class FailedMessage
{
    public Guid Id { get; set; }

    /// <summary>The broker's message id, as the endpoint's inbox knows it.</summary>
    public string MessageId { get; set; } = "";

    public string? MessageType { get; set; }
    public string? Endpoint { get; set; }

    /// <summary>The queue the message failed in: where a retry sends it (unless redirected).</summary>
    public string? Queue { get; set; }

    public string? CorrelationId { get; set; }
    public string ExceptionType { get; set; } = "";
    public string ExceptionMessage { get; set; } = "";
    public string StackTrace { get; set; } = "";

    public byte[] Body { get; set; } = [];
    public Dictionary<string, string?> Headers { get; set; } = [];
    public MessageProperties Properties { get; set; } = new();

    public FailedMessageStatus Status { get; set; }
    public DateTimeOffset FirstFailedAt { get; set; }
    public DateTimeOffset LastFailedAt { get; set; }
    public DateTimeOffset StatusChangedAt { get; set; }
    public int FailureCount { get; set; }
    public int RetryCount { get; set; }

    /// <summary>How it was resolved: <c>retried</c> or <c>edited</c>.</summary>
    public string? Resolution { get; set; }

    /// <summary>The message id of the edited copy that replaced this message.</summary>
    public Guid? EditedAs { get; set; }

    public List<FailureRecord> Failures { get; set; } = [];

    /// <summary>Why the message is in its status when that is not self-evident (a retry that was never confirmed).</summary>
    public string? StatusNote { get; set; }

    /// <summary>What had to change for the message to be stored (NUL characters, invalid UTF-8, oversized headers), if anything.</summary>
    public string? StorageNote { get; set; }

    /// <summary>
    /// The same failure delivered twice (the broker redelivers what was stored but not yet acknowledged)
    /// is recorded once; a new failure of the same message (after a retry) counts and puts it back in the list.
    /// </summary>
    public bool Record(FailureRecord failure)
    {
        if (Failures.Any(f => f.FailureKey == failure.FailureKey)) return false;
        failure.Number = Failures.Count + 1;
        Failures.Add(failure);
        FailureCount = Failures.Count;
        if (FailureCount == 1 || failure.FailedAt < FirstFailedAt) FirstFailedAt = failure.FirstFailedAt ?? failure.FailedAt;
        if (failure.FailedAt >= LastFailedAt || FailureCount == 1)
        {
            LastFailedAt = failure.FailedAt;
            ExceptionType = failure.ExceptionType;
            ExceptionMessage = failure.ExceptionMessage;
            StackTrace = failure.StackTrace;
        }

        if (Status != FailedMessageStatus.Rejected)
        {
            Status = FailedMessageStatus.Unresolved;
            Resolution = null;
            StatusNote = null;
            StatusChangedAt = failure.FailedAt;
        }

        return true;
    }

    public bool CanRetry => Status == FailedMessageStatus.Unresolved;

    /// <summary>Refused on arrival (see <see cref="FailedMessageStatus.Rejected"/>): never retried, archived or resolved.</summary>
    public void Reject()
    {
        Status = FailedMessageStatus.Rejected;
        StatusChangedAt = LastFailedAt;
    }

    public void RetryIssued(DateTimeOffset now)
    {
        Status = FailedMessageStatus.RetryIssued;
        StatusNote = null;
        RetryCount++;
        StatusChangedAt = now;
    }

    /// <summary>
    /// The endpoint handled the retried message: done, unless it failed again since (the later failure wins).
    /// Unresolved counts too: the retry may have gone out while recording it as issued did not commit.
    /// </summary>
    public bool RetrySucceeded(DateTimeOffset handledAt)
    {
        if (Status is not (FailedMessageStatus.RetryIssued or FailedMessageStatus.Unresolved) || handledAt < LastFailedAt) return false;
        Status = FailedMessageStatus.Resolved;
        StatusNote = null;
        Resolution = "retried";
        StatusChangedAt = handledAt;
        return true;
    }

    public void ReplacedBy(Guid editedMessageId, DateTimeOffset now)
    {
        Status = FailedMessageStatus.Resolved;
        Resolution = "edited";
        EditedAs = editedMessageId;
        StatusChangedAt = now;
    }

    public bool CanArchive => Status == FailedMessageStatus.Unresolved;

    public void Archive(DateTimeOffset now)
    {
        Status = FailedMessageStatus.Archived;
        StatusChangedAt = now;
    }

    public bool CanUnarchive => Status == FailedMessageStatus.Archived;

    public void Unarchive(DateTimeOffset now)
    {
        Status = FailedMessageStatus.Unresolved;
        StatusChangedAt = now;
    }
}

/// <summary>One time the message failed: what was thrown, where, after how many attempts.</summary>
public sealed class FailureRecord
{
    public Guid FailedMessageId { get; set; }

    /// <summary>Identifies this failure among redeliveries of the same error-queue message.</summary>
    public string FailureKey { get; set; } = "";

    public int Number { get; set; }
    public DateTimeOffset FailedAt { get; set; }
    public DateTimeOffset? FirstFailedAt { get; set; }
    public string? Endpoint { get; set; }
    public int? Attempts { get; set; }
    public string ExceptionType { get; set; } = "";
    public string ExceptionMessage { get; set; } = "";
    public string StackTrace { get; set; } = "";
}

/// <summary>The AMQP properties a retry must restore for the endpoint to read the message as it was sent.</summary>
public sealed record MessageProperties
{
    public string? MessageId { get; init; }
    public string? CorrelationId { get; init; }
    public string? Type { get; init; }
    public string? ContentType { get; init; }
    public string? ContentEncoding { get; init; }
    public string? ReplyTo { get; init; }
    public string? AppId { get; init; }
    public byte Priority { get; init; }
}
