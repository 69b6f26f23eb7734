using Integration.Tests.Infrastructure;
using RabbitMQ.Client;

namespace Integration.Tests.Messaging;

[NonParallelizable]
public class TheInboxHandlesARedeliveredEnvelopeOnce : LedgerFixture
{
    [Test]
    public async Task The_same_envelope_delivered_twice_has_one_effect()
    {
        var reference = Guid.NewGuid();

        // Let Wolverine write the envelope (to a queue nobody listens on), then take its exact bytes.
        await SendAsync(new Deposit(reference));
        var envelope = (await TestEnvironment.Eventually(
            () => Broker.DrainAsync(LedgerEndpoint.CaptureQueue), m => m.Count == 1, "the Deposit envelope in the capture queue")).Single();
        Assert.That(envelope.BasicProperties.MessageId, Is.Not.Null.And.Not.Empty, "the envelope carries its id");

        // Deliver it twice, as the broker does when an acknowledgement is lost.
        for (var delivery = 0; delivery < 2; delivery++)
        {
            await Broker.Channel.BasicPublishAsync("", LedgerEndpoint.Queue, mandatory: true,
                new BasicProperties(envelope.BasicProperties), envelope.Body);
        }

        // Then a different message behind them: the listener is sequential, so once this one is handled,
        // both copies have been dealt with.
        var sentinel = Guid.NewGuid();
        await SendAsync(new RecordEntry(sentinel, CrashAfterStaging: false));
        await TestEnvironment.Eventually(() => EntriesFor(sentinel), n => n == 1, "the message sent after the duplicates to be handled");

        Assert.That(await EntriesFor(reference), Is.EqualTo(1), "the deposit was applied once");
    }

    [Test]
    public async Task Two_different_envelopes_with_the_same_content_are_two_messages()
    {
        // The inbox deduplicates envelopes, not business facts: business keys are the endpoints' job.
        var reference = Guid.NewGuid();
        for (var i = 0; i < 2; i++)
        {
            await SendAsync(new Deposit(reference));
        }

        var envelopes = await TestEnvironment.Eventually(
            () => Broker.DrainAsync(LedgerEndpoint.CaptureQueue), m => m.Count == 2, "two Deposit envelopes");
        foreach (var envelope in envelopes)
        {
            await Broker.Channel.BasicPublishAsync("", LedgerEndpoint.Queue, mandatory: true, new BasicProperties(envelope.BasicProperties), envelope.Body);
        }

        await TestEnvironment.Eventually(() => EntriesFor(reference), n => n == 2, "both deposits applied");
        Assert.That(envelopes.Select(e => e.BasicProperties.MessageId).Distinct().Count(), Is.EqualTo(2));
    }
}
