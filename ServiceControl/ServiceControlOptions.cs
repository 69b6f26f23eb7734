namespace Conveyor.ServiceControl;

/// <summary>ServiceControl's own settings (section <c>ServiceControl</c>), validated at start-up.</summary>
public sealed class ServiceControlOptions
{
    public const string Section = "ServiceControl";

    /// <summary>How long resolved and archived messages are kept before the retention job deletes them.</summary>
    public TimeSpan RetentionPeriod { get; set; } = TimeSpan.FromDays(7);

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

    /// <summary>Failed messages taken from <c>error</c> before any is stored (and acknowledged).</summary>
    public ushort IngestionPrefetch { get; set; } = 50;

    public static ServiceControlOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<ServiceControlOptions>() ?? new ServiceControlOptions();
        var errors = new List<string>();
        if (options.RetentionPeriod <= TimeSpan.Zero) errors.Add($"{Section}:RetentionPeriod must be positive.");
        if (options.RetentionCheckInterval <= TimeSpan.Zero) errors.Add($"{Section}:RetentionCheckInterval must be positive.");
        if (options.HeartbeatGracePeriod <= TimeSpan.Zero) errors.Add($"{Section}:HeartbeatGracePeriod must be positive.");
        if (options.QueueLengthPollInterval <= TimeSpan.Zero) errors.Add($"{Section}:QueueLengthPollInterval must be positive.");
        if (options.RetryConfirmationTimeout <= TimeSpan.Zero) errors.Add($"{Section}:RetryConfirmationTimeout must be positive.");
        if (options.RetryConfirmationCheckInterval <= TimeSpan.Zero) errors.Add($"{Section}:RetryConfirmationCheckInterval must be positive.");
        if (options.ForgetInstancesSilentFor <= options.HeartbeatGracePeriod) errors.Add($"{Section}:ForgetInstancesSilentFor must be longer than HeartbeatGracePeriod.");
        if (options.IngestionPrefetch == 0) errors.Add($"{Section}:IngestionPrefetch must be at least 1.");
        if (errors.Count > 0) throw new InvalidOperationException(string.Join(" ", errors));
        return options;
    }
}
