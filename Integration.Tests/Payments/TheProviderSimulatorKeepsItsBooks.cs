using Conveyor.Payments;
using Integration.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Integration.Tests.Payments;

/// <summary>
/// The payment provider simulator keeps its books in PostgreSQL, as a real provider keeps them on its side: a
/// Payments process that crashed and started again (or a second instance) still finds what an earlier one
/// charged, so "refund what an earlier attempt took" works after any crash, and money still moves once.
/// </summary>
public class TheProviderSimulatorKeepsItsBooks
{
    private NpgsqlDataSource _database = null!;

    [OneTimeSetUp]
    public void Connect()
    {
        TestEnvironment.RequireBrokerAndDatabase();
        _database = NpgsqlDataSource.Create(TestEnvironment.Database("conveyor_tests", "conveyor_tests"));
    }

    [OneTimeTearDown]
    public async Task Disconnect() => await _database.DisposeAsync();

    /// <summary>A simulator as a fresh Payments process would have it: nothing in memory, the same books.</summary>
    private PaymentProviderSimulator Restarted() => new(new FakeTimeProvider(), ledger: new PostgresProviderLedger(_database));

    private static ChargeRequest Charge(string token = "tok_ok") => new(Guid.NewGuid(), 62.40m, "EUR", token);

    [Test]
    public async Task A_charge_made_before_a_restart_is_known_after_it_and_refunded_once()
    {
        var charge = Charge();
        var before = await Restarted().ChargeAsync(charge, CancellationToken.None);

        var after = Restarted();
        var again = await after.ChargeAsync(charge, CancellationToken.None);
        var refund = new RefundRequest(Guid.NewGuid(), charge.IdempotencyKey, charge.Amount, charge.Currency);
        var refunded = await after.RefundAsync(refund, CancellationToken.None);
        var refundedAgain = await Restarted().RefundAsync(refund, CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(before, Is.InstanceOf<ChargeResult.Authorized>());
            Assert.That(again, Is.EqualTo(before), "the same key answers the first outcome");
            Assert.That(after.Charges, Is.Zero, "no second charge");
            Assert.That(refunded, Is.InstanceOf<RefundResult.Refunded>(), "the money an earlier process took is given back");
            Assert.That(refundedAgain, Is.EqualTo(refunded), "the same refund key answers the first refund");
        });
    }

    [Test]
    public async Task A_declined_charge_stays_declined_and_has_nothing_to_refund()
    {
        var charge = Charge("tok_declined");
        var declined = await Restarted().ChargeAsync(charge, CancellationToken.None);

        var refund = await Restarted().RefundAsync(new RefundRequest(Guid.NewGuid(), charge.IdempotencyKey, charge.Amount, charge.Currency), CancellationToken.None);

        Assert.Multiple(async () =>
        {
            Assert.That(declined, Is.EqualTo(new ChargeResult.Declined("card_declined")));
            Assert.That(await Restarted().ChargeAsync(charge, CancellationToken.None), Is.EqualTo(declined));
            Assert.That(refund, Is.InstanceOf<RefundResult.NothingCharged>());
        });
    }

    [Test]
    public async Task Instances_racing_to_charge_and_refund_move_the_money_once()
    {
        var charge = Charge();
        var instances = Enumerable.Range(0, 8).Select(_ => Restarted()).ToList();

        var charged = await Task.WhenAll(instances.Select(i => i.ChargeAsync(charge, CancellationToken.None)));
        // Eight refunds of the one charge, each under its own key: one gives the money back.
        var refunds = await Task.WhenAll(instances.Select(i => i.RefundAsync(new RefundRequest(Guid.NewGuid(), charge.IdempotencyKey, charge.Amount, charge.Currency), CancellationToken.None)));

        Assert.Multiple(async () =>
        {
            Assert.That(charged.Distinct().Count(), Is.EqualTo(1), "every instance sees the one outcome");
            Assert.That(instances.Sum(i => i.Charges), Is.EqualTo(1), "one charge");
            Assert.That(refunds.Count(r => r is RefundResult.Refunded), Is.EqualTo(1), "one refund");
            Assert.That(await Sql.ScalarAsync<long>(TestEnvironment.Database("conveyor_tests", "conveyor_tests"),
                "select count(*) from payment_provider.refunds where charge_key = @k", ("k", charge.IdempotencyKey)), Is.EqualTo(1));
        });
    }
}
