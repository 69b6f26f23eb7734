using Conveyor.ServiceControl.Operators;

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

/// <summary>Adding, changing and removing redirects: one implementation for the API and Pulse.</summary>
public sealed class RetryRedirects(ServiceControlDb db, AuditLog audit, TimeProvider clock)
{
    public async Task<(ActionOutcome Outcome, RetryRedirect? Redirect)> SetAsync(string? fromQueue, string? toQueue, CancellationToken cancellation)
    {
        if (RetryRedirect.Validate(fromQueue, toQueue) is { } error) return (ActionOutcome.Invalid(error), null);
        var redirect = await db.RetryRedirects.FindAsync([fromQueue], cancellation);
        if (redirect is null) db.RetryRedirects.Add(redirect = new RetryRedirect { FromQueue = fromQueue!, CreatedAt = clock.GetUtcNow() });
        redirect.ToQueue = toQueue!;
        audit.Record(AuditAction.SetRetryRedirect, $"retries for {fromQueue} go to {toQueue}");
        await db.SaveChangesAsync(cancellation);
        return (ActionOutcome.Done(1, $"Retries for {fromQueue} now go to {toQueue}."), redirect);
    }

    public async Task<ActionOutcome> RemoveAsync(string fromQueue, CancellationToken cancellation)
    {
        var redirect = await db.RetryRedirects.FindAsync([fromQueue], cancellation);
        if (redirect is null) return ActionOutcome.NotFound($"No redirect from {fromQueue}.");
        db.RetryRedirects.Remove(redirect);
        audit.Record(AuditAction.RemoveRetryRedirect, $"retries for {fromQueue} go to {fromQueue} again (not {redirect.ToQueue})");
        await db.SaveChangesAsync(cancellation);
        return ActionOutcome.Done(1, $"Retries for {fromQueue} go to {fromQueue} again.");
    }
}
