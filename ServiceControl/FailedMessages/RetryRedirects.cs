namespace Conveyor.ServiceControl.FailedMessages;

/// <summary>Retries of messages that failed in <see cref="FromQueue"/> go to <see cref="ToQueue"/> instead (a renamed or replaced endpoint).</summary>
public sealed class RetryRedirect
{
    public const int MaxQueueNameLength = 255;

    public string FromQueue { get; set; } = "";
    public string ToQueue { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }

    public static string? Validate(string? fromQueue, string? toQueue)
    {
        if (string.IsNullOrWhiteSpace(fromQueue) || string.IsNullOrWhiteSpace(toQueue)) return "Both the queue to redirect from and the queue to redirect to are required.";
        if (fromQueue.Length > MaxQueueNameLength || toQueue.Length > MaxQueueNameLength) return $"Queue names are at most {MaxQueueNameLength} characters.";
        if (fromQueue == toQueue) return "A queue cannot be redirected to itself.";
        return null;
    }
}
