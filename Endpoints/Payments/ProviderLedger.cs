using System.Collections.Concurrent;
using Npgsql;

namespace Conveyor.Payments;

/// <summary>
/// The simulated provider's books: which charge and refund it made under which idempotency key. A real provider
/// keeps these on its side, outside the caller's transactions and beyond the caller's restarts; so must the
/// simulator, or a refund after a crash finds "no charge" for money that was taken.
/// </summary>
public interface IProviderLedger
{
    Task<ChargeResult?> FindChargeAsync(Guid idempotencyKey, CancellationToken cancellationToken);

    /// <summary>Records <paramref name="outcome"/> under the request's key unless an outcome is there already; the one that stands is returned.</summary>
    Task<(ChargeResult Outcome, bool New)> RecordChargeAsync(ChargeRequest request, ChargeResult outcome, CancellationToken cancellationToken);

    /// <summary>
    /// Gives back the authorized charge under <see cref="RefundRequest.ChargeKey"/>, once: a repeat under the same refund
    /// key returns the first refund; a charge that was never authorized, or was refunded under another key, has
    /// nothing to give back.
    /// </summary>
    Task<(RefundResult Outcome, bool New)> RefundAsync(RefundRequest request, string reference, CancellationToken cancellationToken);
}

/// <summary>Books in memory: for the handler specs, where the provider lives as long as the test.</summary>
public sealed class InMemoryProviderLedger : IProviderLedger
{
    private readonly ConcurrentDictionary<Guid, ChargeResult> _charges = new();
    private readonly ConcurrentDictionary<Guid, RefundResult.Refunded> _refunds = new();
    private readonly ConcurrentDictionary<Guid, Guid> _refundedCharges = new();

    public Task<ChargeResult?> FindChargeAsync(Guid idempotencyKey, CancellationToken cancellationToken) =>
        Task.FromResult(_charges.GetValueOrDefault(idempotencyKey));

    public Task<(ChargeResult Outcome, bool New)> RecordChargeAsync(ChargeRequest request, ChargeResult outcome, CancellationToken cancellationToken)
    {
        var recorded = _charges.GetOrAdd(request.IdempotencyKey, outcome);
        return Task.FromResult((recorded, ReferenceEquals(recorded, outcome)));
    }

    public Task<(RefundResult Outcome, bool New)> RefundAsync(RefundRequest request, string reference, CancellationToken cancellationToken)
    {
        if (_refunds.TryGetValue(request.IdempotencyKey, out var earlier)) return Task.FromResult(((RefundResult)earlier, false));
        if (_charges.GetValueOrDefault(request.ChargeKey) is not ChargeResult.Authorized || !_refundedCharges.TryAdd(request.ChargeKey, request.IdempotencyKey))
        {
            return Task.FromResult(((RefundResult)new RefundResult.NothingCharged(), false));
        }

        var refunded = _refunds.GetOrAdd(request.IdempotencyKey, new RefundResult.Refunded(reference));
        return Task.FromResult(((RefundResult)refunded, true));
    }
}

/// <summary>
/// Books in PostgreSQL, in a schema of their own (<c>payment_provider</c>) beside Payments' tables but never in
/// Payments' transactions: each write commits at once on its own connection, as a call to a real provider takes
/// effect whatever the caller then does. Written with plain SQL: these two tables belong to the simulator, not to
/// Payments' model and migrations.
/// </summary>
public sealed class PostgresProviderLedger(NpgsqlDataSource database) : IProviderLedger
{
    private readonly SemaphoreSlim _creating = new(1, 1);
    private volatile bool _created;

    public async Task<ChargeResult?> FindChargeAsync(Guid idempotencyKey, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken);
        await using var command = database.CreateCommand(
            "select authorized, reference, decline_reason from payment_provider.charges where idempotency_key = $1");
        command.Parameters.AddWithValue(idempotencyKey);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken)) return null;
        return reader.GetBoolean(0) ? new ChargeResult.Authorized(reader.GetString(1)) : new ChargeResult.Declined(reader.GetString(2));
    }

    public async Task<(ChargeResult Outcome, bool New)> RecordChargeAsync(ChargeRequest request, ChargeResult outcome, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken);
        await using var command = database.CreateCommand("""
            insert into payment_provider.charges (idempotency_key, authorized, reference, decline_reason, amount, currency)
            values ($1, $2, $3, $4, $5, $6)
            on conflict (idempotency_key) do nothing
            """);
        command.Parameters.AddWithValue(request.IdempotencyKey);
        command.Parameters.AddWithValue(outcome is ChargeResult.Authorized);
        command.Parameters.AddWithValue((outcome as ChargeResult.Authorized)?.ProviderReference ?? (object)DBNull.Value);
        command.Parameters.AddWithValue((outcome as ChargeResult.Declined)?.Reason ?? (object)DBNull.Value);
        command.Parameters.AddWithValue(request.Amount);
        command.Parameters.AddWithValue(request.Currency);
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 1) return (outcome, true);

        // A concurrent attempt under the same key was first: its outcome stands.
        return ((await FindChargeAsync(request.IdempotencyKey, cancellationToken))!, false);
    }

    public async Task<(RefundResult Outcome, bool New)> RefundAsync(RefundRequest request, string reference, CancellationToken cancellationToken)
    {
        await EnsureCreatedAsync(cancellationToken);
        // One statement: a refund is recorded only for an authorized charge, and at most one per charge (unique
        // charge_key) and per refund key (primary key), whatever runs beside it.
        await using (var insert = database.CreateCommand("""
            insert into payment_provider.refunds (idempotency_key, charge_key, reference, amount, currency)
            select $1, $2, $3, $4, $5
            where exists (select 1 from payment_provider.charges where idempotency_key = $2 and authorized)
            on conflict do nothing
            """))
        {
            insert.Parameters.AddWithValue(request.IdempotencyKey);
            insert.Parameters.AddWithValue(request.ChargeKey);
            insert.Parameters.AddWithValue(reference);
            insert.Parameters.AddWithValue(request.Amount);
            insert.Parameters.AddWithValue(request.Currency);
            if (await insert.ExecuteNonQueryAsync(cancellationToken) == 1) return (new RefundResult.Refunded(reference), true);
        }

        await using var earlier = database.CreateCommand("select reference from payment_provider.refunds where idempotency_key = $1");
        earlier.Parameters.AddWithValue(request.IdempotencyKey);
        return await earlier.ExecuteScalarAsync(cancellationToken) is string known
            ? (new RefundResult.Refunded(known), false)
            : (new RefundResult.NothingCharged(), false);
    }

    private async Task EnsureCreatedAsync(CancellationToken cancellationToken)
    {
        if (_created) return;
        await _creating.WaitAsync(cancellationToken);
        try
        {
            if (_created) return;
            await using var command = database.CreateCommand("""
                create schema if not exists payment_provider;
                create table if not exists payment_provider.charges (
                    idempotency_key uuid primary key,
                    authorized boolean not null,
                    reference text,
                    decline_reason text,
                    amount numeric(19, 4) not null,
                    currency char(3) not null,
                    charged_at timestamptz not null default now());
                create table if not exists payment_provider.refunds (
                    idempotency_key uuid primary key,
                    charge_key uuid not null unique references payment_provider.charges (idempotency_key),
                    reference text not null,
                    amount numeric(19, 4) not null,
                    currency char(3) not null,
                    refunded_at timestamptz not null default now());
                """);
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateSchema or PostgresErrorCodes.DuplicateTable)
            {
                // Another Payments instance created them at the same moment ("if not exists" is not atomic across
                // sessions): they exist now.
            }

            _created = true;
        }
        finally
        {
            _creating.Release();
        }
    }
}
