namespace Conveyor.ServiceControl;

/// <summary>ServiceControl's own settings (section <c>ServiceControl</c>), validated at start-up.</summary>
public sealed class ServiceControlOptions
{
    public const string Section = "ServiceControl";

    /// <summary>How long resolved and archived messages are kept before the retention job deletes them.</summary>
    public TimeSpan RetentionPeriod { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// If set, an unresolved message is deleted this long after its last failure, whether anyone looked at it or not
    /// (for the personal data failed messages carry). Unset by default: a failure waits for an operator.
    /// </summary>
    public TimeSpan? UnresolvedRetentionPeriod { get; set; }

    /// <summary>How often the retention job looks for expired messages.</summary>
    public TimeSpan RetentionCheckInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>An endpoint instance silent for longer than this is down.</summary>
    public TimeSpan HeartbeatGracePeriod { get; set; } = TimeSpan.FromSeconds(40);

    /// <summary>How often queue lengths are read from the broker.</summary>
    public TimeSpan QueueLengthPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The RabbitMQ management API, e.g. <c>http://user:pass@127.0.0.1:15672</c>. Default: the AMQP
    /// connection's host and credentials on port 15672.
    /// </summary>
    public Uri? RabbitMqManagementUri { get; set; }

    /// <summary>
    /// A retry the endpoint has not confirmed within this time (the message or its confirmation was lost) goes back
    /// to the list as Unresolved, saying so: nothing waits for ever.
    /// </summary>
    public TimeSpan RetryConfirmationTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often unconfirmed retries are looked for.</summary>
    public TimeSpan RetryConfirmationCheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// An endpoint instance silent for this long is forgotten, with its throughput: a replaced host or a rescheduled
    /// pod is not down, it is gone. Until then it shows as down.
    /// </summary>
    public TimeSpan ForgetInstancesSilentFor { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// A body up to this size is shown (and editable) in Pulse and returned by the API's message view; a larger one
    /// is kept whole and only downloaded (<c>/api/failed-messages/{id}/body</c>), so no page carries megabytes.
    /// </summary>
    public int MaxInlineBodyBytes { get; set; } = 64 * 1024;

    /// <summary>How long processed messages (audit copies) are kept.</summary>
    public TimeSpan AuditRetentionPeriod { get; set; } = TimeSpan.FromDays(7);

    /// <summary>An audit copy's body up to this size is stored (and searched); a larger one is noted with its size only.</summary>
    public int MaxAuditBodyBytes { get; set; } = 64 * 1024;

    /// <summary>Audit copies stored in one transaction, at most.</summary>
    public int AuditBatchSize { get; set; } = 200;

    /// <summary>Failed messages taken from <c>error</c> before any is stored (and acknowledged).</summary>
    public ushort IngestionPrefetch { get; set; } = 50;

    public static ServiceControlOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<ServiceControlOptions>() ?? new ServiceControlOptions();
        var errors = new List<string>();
        if (options.RetentionPeriod <= TimeSpan.Zero) errors.Add($"{Section}:RetentionPeriod must be positive.");
        if (options.UnresolvedRetentionPeriod is { } unresolved && unresolved <= TimeSpan.Zero) errors.Add($"{Section}:UnresolvedRetentionPeriod must be positive (or unset).");
        if (options.RetentionCheckInterval <= TimeSpan.Zero) errors.Add($"{Section}:RetentionCheckInterval must be positive.");
        if (options.HeartbeatGracePeriod <= TimeSpan.Zero) errors.Add($"{Section}:HeartbeatGracePeriod must be positive.");
        if (options.QueueLengthPollInterval <= TimeSpan.Zero) errors.Add($"{Section}:QueueLengthPollInterval must be positive.");
        if (options.RetryConfirmationTimeout <= TimeSpan.Zero) errors.Add($"{Section}:RetryConfirmationTimeout must be positive.");
        if (options.RetryConfirmationCheckInterval <= TimeSpan.Zero) errors.Add($"{Section}:RetryConfirmationCheckInterval must be positive.");
        if (options.ForgetInstancesSilentFor <= options.HeartbeatGracePeriod) errors.Add($"{Section}:ForgetInstancesSilentFor must be longer than HeartbeatGracePeriod.");
        if (options.MaxInlineBodyBytes < 1) errors.Add($"{Section}:MaxInlineBodyBytes must be positive.");
        if (options.AuditRetentionPeriod <= TimeSpan.Zero) errors.Add($"{Section}:AuditRetentionPeriod must be positive.");
        if (options.MaxAuditBodyBytes < 0) errors.Add($"{Section}:MaxAuditBodyBytes must be 0 or more.");
        if (options.AuditBatchSize is < 1 or > 10_000) errors.Add($"{Section}:AuditBatchSize must be 1 to 10000.");
        if (options.IngestionPrefetch == 0) errors.Add($"{Section}:IngestionPrefetch must be at least 1.");
        if (errors.Count > 0) throw new InvalidOperationException(string.Join(" ", errors));
        return options;
    }
}
