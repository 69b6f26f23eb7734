using System.Text;
using Integration.Tests.Infrastructure;
using RabbitMQ.Client;

namespace Integration.Tests.Messaging;

[NonParallelizable]
public class TheOutboxCommitsRowsAndMessagesTogether : LedgerFixture
{
    private const string Probe = "it-probe-entry-recorded";

    [OneTimeSetUp]
    public async Task SubscribeAProbe()
    {
        // A subscriber of our own to the event the handler publishes: what reaches it was really sent. The exchange is
        // declared here as Wolverine declares it (fanout, durable), which it does only on the first send: on a fresh
        // broker the binding found nothing to bind to.
        await Broker.Channel.ExchangeDeclareAsync(nameof(EntryRecorded), ExchangeType.Fanout, durable: true);
        await Broker.Channel.QueueDeclareAsync(Probe, durable: false, exclusive: false, autoDelete: false);
        await Broker.Channel.QueueBindAsync(Probe, nameof(EntryRecorded), routingKey: "");
    }

    [SetUp]
    public Task EmptyTheProbe() => Broker.PurgeAsync(Probe);

    [OneTimeTearDown]
    public async Task RemoveTheProbe()
    {
        if (Broker is not null) await Broker.Channel.QueueDeleteAsync(Probe);
    }

    private static bool Mentions(BasicGetResult message, Guid reference) =>
        Encoding.UTF8.GetString(message.Body.Span).Contains(reference.ToString());

    [Test]
    public async Task A_handler_that_fails_after_writing_and_staging_leaves_no_row_and_sends_nothing()
    {
        var reference = Guid.NewGuid();

        await SendAsync(new RecordEntry(reference, CrashAfterStaging: true));

        // The failure is observable: the message lands in the error queue with its failure details.
        var failed = (await TestEnvironment.Eventually(
            () => Broker.DrainAsync(LedgerEndpoint.ErrorQueue),
            messages => messages.Any(m => Mentions(m, reference)),
            "the crashed RecordEntry in the error queue")).First(m => Mentions(m, reference));

        var exceptionType = Encoding.UTF8.GetString((byte[])failed.BasicProperties.Headers!["exception-type"]!);
        // Nothing is waiting to be sent later, so the probe's count below is final. Waited for, not read at once: the
        // failed message may reach the error queue a moment before its own outgoing row is deleted.
        await TestEnvironment.Eventually(PendingOutgoingEnvelopes, pending => pending == 0, "an empty outbox");
        Assert.Multiple(async () =>
        {
            Assert.That(exceptionType, Does.Contain(nameof(SimulatedCrash)));
            Assert.That(await EntriesFor(reference), Is.Zero, "the row written before the crash was rolled back");
            Assert.That(await Broker.CountAsync(Probe), Is.Zero, "the staged event never reached a subscriber");
        });
    }

    [Test]
    public async Task A_handler_that_succeeds_commits_its_row_and_sends_its_event_exactly_once()
    {
        var reference = Guid.NewGuid();

        await SendAsync(new RecordEntry(reference, CrashAfterStaging: false));

        await TestEnvironment.Eventually(() => Broker.CountAsync(Probe), count => count >= 1, "EntryRecorded at the subscriber");
        // Nothing left in the outbox means nothing more will be sent: the count below is final.
        await TestEnvironment.Eventually(PendingOutgoingEnvelopes, pending => pending == 0, "an empty outbox");

        var received = await Broker.DrainAsync(Probe);
        Assert.Multiple(async () =>
        {
            Assert.That(received, Has.Count.EqualTo(1));
            Assert.That(received.All(m => Mentions(m, reference)), Is.True);
            Assert.That(await EntriesFor(reference), Is.EqualTo(1));
        });
    }
}
