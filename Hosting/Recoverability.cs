using System.Globalization;
using System.Text.Json;
using JasperFx.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Wolverine;
using Wolverine.Configuration;
using Wolverine.ErrorHandling;
using Wolverine.Persistence.Durability.DeadLetterManagement;
using Wolverine.Runtime;

namespace Conveyor.Hosting;

/// <summary>
/// How failures are retried, from <c>Conveyor:Recoverability</c> (per endpoint, in its configuration):
/// <c>ImmediateRetries</c> in-memory retries, then one delayed retry per entry of <c>DelayedRetries</c>
/// (comma-separated durations, exponential by default), then the <c>error</c> queue.
/// </summary>
public sealed class RecoverabilityOptions
{
    public const string Section = "Conveyor:Recoverability";

    public int ImmediateRetries { get; set; } = 2;

    public string DelayedRetries { get; set; } = "00:00:01,00:00:04,00:00:16";

    public TimeSpan[] DelayedRetryIntervals =>
        DelayedRetries.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => TimeSpan.Parse(d, CultureInfo.InvariantCulture))
            .ToArray();

    /// <summary>Attempts a message gets before it lands in <c>error</c>.</summary>
    public int TotalAttempts => 1 + ImmediateRetries + DelayedRetryIntervals.Length;

    public static RecoverabilityOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<RecoverabilityOptions>() ?? new RecoverabilityOptions();
        if (options.ImmediateRetries is < 0 or > 20)
        {
            throw new InvalidOperationException($"{Section}:ImmediateRetries must be between 0 and 20 (is {options.ImmediateRetries}).");
        }

        try
        {
            if (options.DelayedRetryIntervals.Any(d => d <= TimeSpan.Zero)) throw new FormatException("durations must be positive");
        }
        catch (FormatException ex)
        {
            throw new InvalidOperationException($"{Section}:DelayedRetries must be comma-separated positive durations such as 00:00:01,00:00:04 (is '{options.DelayedRetries}'): {ex.Message}");
        }

        return options;
    }
}

/// <summary>A message that can never succeed as it is (it breaks the contract): straight to <c>error</c>, no retries.</summary>
public sealed class MessageValidationException(string message) : Exception(message);

/// <summary>Names of the headers Conveyor adds to a failed message, beside Wolverine's exception-* headers.</summary>
public static class FailureHeaders
{
    public const string Endpoint = "conveyor-endpoint";
    public const string Queue = "conveyor-queue";
    public const string MessageType = "conveyor-message-type";
    public const string CorrelationId = "conveyor-correlation-id";
    public const string FirstFailureAt = "conveyor-first-failure-at";
    public const string LastFailureAt = "conveyor-last-failure-at";
    public const string Attempts = "conveyor-attempts";
}

internal static class Recoverability
{
    public static void Apply(WolverineOptions opts, RecoverabilityOptions options, string endpoint)
    {
        // Poison: retrying cannot help a message that breaks the contract. (A body that is not valid JSON
        // never reaches these rules: Wolverine dead-letters it on arrival.)
        MoveToError(opts.OnException<MessageValidationException>());
        MoveToError(opts.OnException<JsonException>());
        // Nor a message from a sender the topology does not trust: it stays refused however often it is tried.
        MoveToError(opts.OnException<UntrustedSenderException>());

        // Two handlers updating the same row (saga version, unique business key) race: retry at once, the
        // second attempt sees the winner's state.
        Then(opts.OnException<DbUpdateException>().RetryWithCooldown(50.Milliseconds(), 100.Milliseconds(), 250.Milliseconds()), options);

        var everything = opts.OnException<Exception>();
        if (options.ImmediateRetries > 0) Then(everything.RetryTimes(options.ImmediateRetries), options);
        else Delayed(everything, options);

        // First failure time survives the delayed retries: the envelope is stored with its headers.
        foreach (var rule in ((IWithFailurePolicies)opts).Failures)
        {
            foreach (var slot in rule) slot.InsertSourceAtTop(new StampFailure());
        }

        opts.Services.AddSingleton<IDeadLetterFingerprinter>(new DescribeFailure(endpoint));
    }

    private static void Then(IAdditionalActions actions, RecoverabilityOptions options) => Delayed(actions.Then, options);

    private static void Delayed(IFailureActions actions, RecoverabilityOptions options)
    {
        var delays = options.DelayedRetryIntervals;
        if (delays.Length > 0) MoveToError(actions.ScheduleRetry(delays).Then);
        else MoveToError(actions);
    }

    private static void MoveToError(IFailureActions actions) => actions.MoveToErrorQueue().And(new ForgetInInbox());

    /// <summary>
    /// Wolverine retires a dead-lettered message in the inbox as "handled", and the inbox discards a message
    /// id it has handled (for <c>KeepAfterMessageHandling</c>) as a duplicate: a retry from ServiceControl,
    /// which keeps the message id, would vanish unprocessed. The error queue holds the message now, so its
    /// inbox row can go.
    /// </summary>
    private sealed class ForgetInInbox() : UserDefinedContinuation("forget the message in the inbox")
    {
        public override async ValueTask ExecuteAsync(IEnvelopeLifecycle lifecycle, IWolverineRuntime runtime, DateTimeOffset now, System.Diagnostics.Activity? activity)
        {
            if (lifecycle.Envelope?.Destination is not null) await runtime.Storage.Inbox.DeleteIncomingEnvelopeAsync(lifecycle.Envelope);
        }
    }

    /// <summary>Runs on every failure, before the retry or move: when it first failed, when it last did.</summary>
    private sealed class StampFailure : IContinuationSource, IContinuation
    {
        public string Description => "stamp the failure times";

        public IContinuation Build(Exception ex, Envelope envelope) => this;

        public ValueTask ExecuteAsync(IEnvelopeLifecycle lifecycle, IWolverineRuntime runtime, DateTimeOffset now, System.Diagnostics.Activity? activity)
        {
            var headers = lifecycle.Envelope!.Headers;
            headers.TryAdd(FailureHeaders.FirstFailureAt, now.ToString("O"));
            headers[FailureHeaders.LastFailureAt] = now.ToString("O");
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// Wolverine calls this just before a message goes to the dead-letter queue: the last chance to say
    /// where it failed and what it is about, so an operator (or ServiceControl) need not guess.
    /// </summary>
    private sealed class DescribeFailure(string endpoint) : IDeadLetterFingerprinter
    {
        public DeadLetterFingerprint Fingerprint(Envelope envelope, Exception? exception)
        {
            var now = DateTimeOffset.UtcNow.ToString("O");
            // The audit contract's description of the message, so a failed step sits in its order's conversation.
            Auditing.Describe(envelope, envelope.Headers, endpoint);
            envelope.Headers[FailureHeaders.Attempts] = Math.Max(envelope.Attempts, 1).ToString(CultureInfo.InvariantCulture);
            envelope.Headers.TryAdd(FailureHeaders.FirstFailureAt, now);
            envelope.Headers.TryAdd(FailureHeaders.LastFailureAt, now);
            return DeadLetterFingerprinting.Default.Fingerprint(envelope, exception);
        }
    }
}
