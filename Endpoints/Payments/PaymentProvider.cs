using System.Collections.Concurrent;

namespace Conveyor.Payments;

public sealed record ChargeRequest(Guid IdempotencyKey, decimal Amount, string Currency, string PaymentToken);

public abstract record ChargeResult
{
    public sealed record Authorized(string ProviderReference) : ChargeResult;
    public sealed record Declined(string Reason) : ChargeResult;
}

/// <summary>The provider could not answer (network, outage, timeout): worth retrying, unlike a decline.</summary>
public sealed class PaymentProviderUnavailableException(string message) : Exception(message);

/// <summary>
/// The payment provider as Payments sees it. Like real providers, a charge carries an idempotency key:
/// repeating a request with the same key never charges twice, it returns the first outcome.
/// </summary>
public interface IPaymentProvider
{
    Task<ChargeResult> ChargeAsync(ChargeRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// A provider in test mode: the payment token decides the outcome, as with real providers' test cards.
/// <list type="bullet">
/// <item><c>tok_ok</c> authorizes; <c>tok_declined</c> declines.</item>
/// <item><c>tok_flaky</c> fails transiently <see cref="FlakyFailures"/> times per idempotency key, then authorizes.</item>
/// <item><c>tok_down</c> always fails transiently.</item>
/// <item><c>tok_slow</c> authorizes after <see cref="SlowResponse"/>, past the order's payment deadline.</item>
/// <item>any other token is declined as unknown.</item>
/// </list>
/// </summary>
public sealed class PaymentProviderSimulator(TimeProvider clock) : IPaymentProvider
{
    public const string Ok = "tok_ok";
    public const string Declined = "tok_declined";
    public const string Flaky = "tok_flaky";
    public const string Down = "tok_down";
    public const string Slow = "tok_slow";

    private readonly ConcurrentDictionary<Guid, ChargeResult> _outcomes = new();
    private readonly ConcurrentDictionary<Guid, int> _attempts = new();
    private int _charges;

    public int FlakyFailures { get; init; } = 2;
    public TimeSpan SlowResponse { get; init; } = TimeSpan.FromSeconds(45);

    /// <summary>How many distinct charges were made (repeats under the same key do not count).</summary>
    public int Charges => _charges;

    public async Task<ChargeResult> ChargeAsync(ChargeRequest request, CancellationToken cancellationToken)
    {
        if (_outcomes.TryGetValue(request.IdempotencyKey, out var earlier)) return earlier;

        var attempt = _attempts.AddOrUpdate(request.IdempotencyKey, 1, (_, n) => n + 1);
        switch (request.PaymentToken)
        {
            case Down:
                throw new PaymentProviderUnavailableException("The payment provider is unavailable (simulated outage for tok_down).");
            case Flaky when attempt <= FlakyFailures:
                throw new PaymentProviderUnavailableException($"The payment provider timed out (simulated, attempt {attempt} of tok_flaky).");
            case Slow:
                await Task.Delay(SlowResponse, clock, cancellationToken);
                break;
        }

        ChargeResult outcome = request.PaymentToken switch
        {
            Ok or Flaky or Slow => new ChargeResult.Authorized($"sim_ch_{request.IdempotencyKey:N}"),
            Declined => new ChargeResult.Declined("card_declined"),
            _ => new ChargeResult.Declined("unknown_payment_token"),
        };

        // First outcome for a key wins, as with a real provider's idempotency store.
        var recorded = _outcomes.GetOrAdd(request.IdempotencyKey, outcome);
        if (ReferenceEquals(recorded, outcome) && outcome is ChargeResult.Authorized) Interlocked.Increment(ref _charges);
        return recorded;
    }
}
