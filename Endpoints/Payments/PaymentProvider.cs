using System.Collections.Concurrent;

namespace Conveyor.Payments;

public sealed record ChargeRequest(Guid IdempotencyKey, decimal Amount, string Currency, string PaymentToken);

public abstract record ChargeResult
{
    public sealed record Authorized(string ProviderReference) : ChargeResult;
    public sealed record Declined(string Reason) : ChargeResult;
}

/// <summary>Give back what was charged under <see cref="ChargeKey"/>; <see cref="IdempotencyKey"/> makes the refund itself happen once.</summary>
public sealed record RefundRequest(Guid IdempotencyKey, Guid ChargeKey, decimal Amount, string Currency);

public abstract record RefundResult
{
    public sealed record Refunded(string ProviderReference) : RefundResult;

    /// <summary>Nothing was ever charged under that key: there is nothing to give back.</summary>
    public sealed record NothingCharged : RefundResult;
}

/// <summary>The provider could not answer (network, outage, timeout): worth retrying, unlike a decline.</summary>
public sealed class PaymentProviderUnavailableException(string message) : Exception(message);

/// <summary>
/// The payment provider as Payments sees it. Like real providers, charges and refunds carry an
/// idempotency key: repeating a request with the same key never moves money twice, it returns the first outcome.
/// </summary>
public interface IPaymentProvider
{
    Task<ChargeResult> ChargeAsync(ChargeRequest request, CancellationToken cancellationToken);

    Task<RefundResult> RefundAsync(RefundRequest request, CancellationToken cancellationToken);
}

public sealed class PaymentProviderSimulatorOptions
{
    /// <summary>How often <c>tok_flaky</c> fails before it authorizes, per idempotency key.</summary>
    public int FlakyFailures { get; set; } = 2;

    /// <summary>How long <c>tok_slow</c> takes to answer: longer than the order's payment deadline.</summary>
    public TimeSpan SlowResponse { get; set; } = TimeSpan.FromSeconds(45);
}

/// <summary>
/// A provider in test mode: the payment token decides the outcome, as with real providers' test cards.
/// <list type="bullet">
/// <item><c>tok_ok</c> authorizes; <c>tok_declined</c> declines; any other unknown token is declined as unknown.</item>
/// <item><c>tok_flaky</c> fails transiently <see cref="PaymentProviderSimulatorOptions.FlakyFailures"/> times per key, then authorizes.</item>
/// <item><c>tok_down</c> always fails transiently.</item>
/// <item><c>tok_slow</c> authorizes after <see cref="PaymentProviderSimulatorOptions.SlowResponse"/>, past the payment deadline.</item>
/// </list>
/// While <see cref="OutageActive"/> is on (the operator's outage switch), every charge fails transiently.
/// What it charged and refunded is kept in its <see cref="IProviderLedger"/>, which outlives Payments' processes the
/// way a real provider's books do: a refund of what an earlier attempt took works after any crash.
/// </summary>
public sealed class PaymentProviderSimulator(
    TimeProvider clock,
    PaymentProviderSimulatorOptions? options = null,
    IProviderLedger? ledger = null) : IPaymentProvider
{
    public const string Ok = "tok_ok";
    public const string Declined = "tok_declined";
    public const string Flaky = "tok_flaky";
    public const string Down = "tok_down";
    public const string Slow = "tok_slow";

    private readonly PaymentProviderSimulatorOptions _options = options ?? new();
    private readonly IProviderLedger _ledger = ledger ?? new InMemoryProviderLedger();
    // Transient failures are the provider's mood, not its books: they are counted per process.
    private readonly ConcurrentDictionary<Guid, int> _attempts = new();
    private int _chargeCount;
    private int _refundCount;
    private volatile bool _outage;

    /// <summary>The operator's outage switch: while on, every charge fails as if the provider were down.</summary>
    public bool OutageActive
    {
        get => _outage;
        set => _outage = value;
    }

    /// <summary>Distinct charges and refunds this simulator made (repeats under the same key do not count).</summary>
    public int Charges => _chargeCount;
    public int Refunds => _refundCount;

    public async Task<ChargeResult> ChargeAsync(ChargeRequest request, CancellationToken cancellationToken)
    {
        if (await _ledger.FindChargeAsync(request.IdempotencyKey, cancellationToken) is { } earlier) return earlier;
        if (_outage) throw new PaymentProviderUnavailableException("The payment provider is unavailable (simulated outage switched on by an operator).");

        var attempt = _attempts.AddOrUpdate(request.IdempotencyKey, 1, (_, n) => n + 1);
        switch (request.PaymentToken)
        {
            case Down:
                throw new PaymentProviderUnavailableException("The payment provider is unavailable (simulated outage for tok_down).");
            case Flaky when attempt <= _options.FlakyFailures:
                throw new PaymentProviderUnavailableException($"The payment provider timed out (simulated, attempt {attempt} of tok_flaky).");
            case Slow:
                await Task.Delay(_options.SlowResponse, clock, cancellationToken);
                break;
        }

        ChargeResult outcome = request.PaymentToken switch
        {
            Ok or Flaky or Slow => new ChargeResult.Authorized($"sim_ch_{request.IdempotencyKey:N}"),
            Declined => new ChargeResult.Declined("card_declined"),
            _ => new ChargeResult.Declined("unknown_payment_token"),
        };

        // The first outcome for a key wins, as with a real provider's idempotency store.
        var (recorded, isNew) = await _ledger.RecordChargeAsync(request, outcome, cancellationToken);
        if (isNew && recorded is ChargeResult.Authorized) Interlocked.Increment(ref _chargeCount);
        return recorded;
    }

    public async Task<RefundResult> RefundAsync(RefundRequest request, CancellationToken cancellationToken)
    {
        var (outcome, isNew) = await _ledger.RefundAsync(request, $"sim_re_{request.IdempotencyKey:N}", cancellationToken);
        if (isNew) Interlocked.Increment(ref _refundCount);
        return outcome;
    }
}
