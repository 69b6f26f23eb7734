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
        var provider = new PaymentProviderSimulator(Given.Clock()) { FlakyFailures = 2 };
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
    public async Task An_unknown_token_is_declined()
    {
        var result = await new PaymentProviderSimulator(Given.Clock()).ChargeAsync(Request("tok_nonsense"), CancellationToken.None);

        Assert.That(result, Is.EqualTo(new ChargeResult.Declined("unknown_payment_token")));
    }
}
