using Conveyor.Payments;

namespace Handlers.Tests.Payments;

public class PaymentProviderSimulatorBehavesLikeATestModeProvider
{
    private static ChargeRequest Request(string token, Guid? key = null) => new(key ?? Guid.NewGuid(), 10m, "EUR", token);

    [Test]
    public async Task The_same_idempotency_key_never_charges_twice()
    {
        var provider = new PaymentProviderSimulator(Given.Clock());
        var key = Guid.NewGuid();

        var first = await provider.ChargeAsync(Request("tok_ok", key), CancellationToken.None);
        var second = await provider.ChargeAsync(Request("tok_ok", key), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(second, Is.EqualTo(first));
            Assert.That(provider.Charges, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Flaky_fails_a_few_times_then_authorizes()
    {
        var provider = new PaymentProviderSimulator(Given.Clock(), new PaymentProviderSimulatorOptions { FlakyFailures = 2 });
        var request = Request("tok_flaky");

        Assert.ThrowsAsync<PaymentProviderUnavailableException>(() => provider.ChargeAsync(request, CancellationToken.None));
        Assert.ThrowsAsync<PaymentProviderUnavailableException>(() => provider.ChargeAsync(request, CancellationToken.None));
        var third = await provider.ChargeAsync(request, CancellationToken.None);

        Assert.That(third, Is.InstanceOf<ChargeResult.Authorized>());
    }

    [Test]
    public void Down_always_fails_transiently()
    {
        var provider = new PaymentProviderSimulator(Given.Clock());
        var request = Request("tok_down");

        for (var i = 0; i < 5; i++)
        {
            Assert.ThrowsAsync<PaymentProviderUnavailableException>(() => provider.ChargeAsync(request, CancellationToken.None));
        }
    }

    [Test]
    public async Task Slow_answers_only_after_its_delay()
    {
        var clock = Given.Clock();
        var provider = new PaymentProviderSimulator(clock, new PaymentProviderSimulatorOptions { SlowResponse = TimeSpan.FromSeconds(45) });

        var charge = provider.ChargeAsync(Request("tok_slow"), CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(44));
        var answeredEarly = charge.IsCompleted;
        clock.Advance(TimeSpan.FromSeconds(1));

        Assert.Multiple(async () =>
        {
            Assert.That(answeredEarly, Is.False);
            Assert.That(await charge, Is.InstanceOf<ChargeResult.Authorized>());
        });
    }

    [Test]
    public async Task The_outage_switch_fails_every_charge_until_it_is_switched_off()
    {
        var provider = new PaymentProviderSimulator(Given.Clock()) { OutageActive = true };
        var request = Request("tok_ok");

        Assert.ThrowsAsync<PaymentProviderUnavailableException>(() => provider.ChargeAsync(request, CancellationToken.None));
        provider.OutageActive = false;

        Assert.That(await provider.ChargeAsync(request, CancellationToken.None), Is.InstanceOf<ChargeResult.Authorized>());
    }

    [Test]
    public async Task An_unknown_token_is_declined()
    {
        var result = await new PaymentProviderSimulator(Given.Clock()).ChargeAsync(Request("tok_nonsense"), CancellationToken.None);

        Assert.That(result, Is.EqualTo(new ChargeResult.Declined("unknown_payment_token")));
    }

    [Test]
    public async Task A_charge_is_refunded_once_whatever_the_number_of_refund_requests()
    {
        var provider = new PaymentProviderSimulator(Given.Clock());
        var charge = Request("tok_ok");
        await provider.ChargeAsync(charge, CancellationToken.None);

        var first = await provider.RefundAsync(new RefundRequest(Guid.NewGuid(), charge.IdempotencyKey, 10m, "EUR"), CancellationToken.None);
        var withAnotherKey = await provider.RefundAsync(new RefundRequest(Guid.NewGuid(), charge.IdempotencyKey, 10m, "EUR"), CancellationToken.None);

        Assert.Multiple(() =>
        {
            Assert.That(first, Is.InstanceOf<RefundResult.Refunded>());
            Assert.That(withAnotherKey, Is.InstanceOf<RefundResult.NothingCharged>());
            Assert.That(provider.Refunds, Is.EqualTo(1));
        });
    }

    [Test]
    public async Task Nothing_charged_means_nothing_to_refund()
    {
        var result = await new PaymentProviderSimulator(Given.Clock()).RefundAsync(new RefundRequest(Guid.NewGuid(), Guid.NewGuid(), 10m, "EUR"), CancellationToken.None);

        Assert.That(result, Is.InstanceOf<RefundResult.NothingCharged>());
    }
}
