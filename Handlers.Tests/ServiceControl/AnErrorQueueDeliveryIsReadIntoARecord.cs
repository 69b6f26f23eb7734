using System.Text;
using Conveyor.Hosting.ServiceControl;
using Conveyor.ServiceControl.FailedMessages;

namespace Handlers.Tests.ServiceControl;

public class AnErrorQueueDeliveryIsReadIntoARecord
{
    private static readonly DateTimeOffset ReceivedAt = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);
    private static readonly Guid MessageId = Guid.Parse("08df4c73-d9c6-2599-9e9d-c73388770000");

    private static Dictionary<string, string?> EndpointFailureHeaders() => new()
    {
        ["exception-type"] = "Conveyor.Payments.PaymentProviderUnavailableException",
        ["exception-message"] = "The payment provider is unavailable.",
        ["exception-stack"] = "   at Conveyor.Payments.PaymentProviderSimulator.ChargeAsync()",
        ["conveyor-endpoint"] = "payments",
        ["conveyor-queue"] = "rabbitmq://queue/payments",
        ["conveyor-message-type"] = "Conveyor.Messages.OrderPlaced",
        ["conveyor-attempts"] = "6",
        ["conveyor-first-failure-at"] = "2026-11-27T09:59:40.0000000+00:00",
        ["conveyor-last-failure-at"] = "2026-11-27T09:59:58.0000000+00:00",
        ["correlation-id"] = "01a21c9e-288f-793a-9c6e-457e307f3eae",
    };

    private static MessageProperties Properties => new() { MessageId = MessageId.ToString(), Type = "Conveyor.Messages.OrderPlaced", ContentType = "application/json" };

    [Test]
    public void An_endpoint_failure_is_read_from_its_headers()
    {
        var (message, failure) = FailedMessageReceipt.Read(Properties, EndpointFailureHeaders(), "{}"u8.ToArray(), ReceivedAt);

        Assert.Multiple(() =>
        {
            Assert.That(message.Id, Is.EqualTo(MessageId), "Wolverine's message id is the record's id");
            Assert.That(message.Queue, Is.EqualTo("payments"));
            Assert.That(message.Endpoint, Is.EqualTo("payments"));
            Assert.That(message.MessageType, Is.EqualTo("Conveyor.Messages.OrderPlaced"));
            Assert.That(failure.ExceptionType, Is.EqualTo("Conveyor.Payments.PaymentProviderUnavailableException"));
            Assert.That(failure.Attempts, Is.EqualTo(6));
            Assert.That(failure.FailedAt, Is.EqualTo(new DateTimeOffset(2026, 11, 27, 9, 59, 58, TimeSpan.Zero)));
            Assert.That(failure.FirstFailedAt, Is.EqualTo(new DateTimeOffset(2026, 11, 27, 9, 59, 40, TimeSpan.Zero)));
        });
    }

    [Test]
    public void A_redelivery_has_the_same_failure_key_and_a_new_failure_another()
    {
        var first = FailedMessageReceipt.Read(Properties, EndpointFailureHeaders(), "{}"u8.ToArray(), ReceivedAt);
        var redelivered = EndpointFailureHeaders();
        redelivered["x-delivery-count"] = "1";
        var again = FailedMessageReceipt.Read(Properties, redelivered, "{}"u8.ToArray(), ReceivedAt.AddSeconds(30));
        var failedAgain = EndpointFailureHeaders();
        failedAgain["conveyor-last-failure-at"] = "2026-11-27T10:05:00.0000000+00:00";
        var later = FailedMessageReceipt.Read(Properties, failedAgain, "{}"u8.ToArray(), ReceivedAt.AddMinutes(5));

        Assert.Multiple(() =>
        {
            Assert.That(again.Failure.FailureKey, Is.EqualTo(first.Failure.FailureKey), "broker redelivery headers do not make a new failure");
            Assert.That(later.Failure.FailureKey, Is.Not.EqualTo(first.Failure.FailureKey));
            Assert.That(later.Message.Id, Is.EqualTo(first.Message.Id), "same message, same record");
        });
    }

    [Test]
    public void A_message_the_broker_dead_lettered_says_so_and_belongs_to_the_endpoint_of_its_queue()
    {
        var headers = new Dictionary<string, string?> { ["x-first-death-reason"] = "delivery_limit", ["x-first-death-queue"] = "payments" };

        var (message, failure) = FailedMessageReceipt.Read(Properties, headers, "{}"u8.ToArray(), ReceivedAt);

        Assert.Multiple(() =>
        {
            Assert.That(failure.ExceptionType, Does.Contain("dead-lettered by the broker: delivery_limit"));
            Assert.That(message.Queue, Is.EqualTo("payments"));
            Assert.That(message.Endpoint, Is.EqualTo("payments"), "the endpoint that owns the queue it came from");
            Assert.That(failure.Endpoint, Is.EqualTo("payments"));
            Assert.That(failure.FailedAt, Is.EqualTo(ReceivedAt), "no failure time: when it arrived");
        });
    }

    [Test]
    public void A_message_without_an_id_gets_a_stable_one()
    {
        var properties = Properties with { MessageId = null };

        var once = FailedMessageReceipt.Read(properties, [], Encoding.UTF8.GetBytes("bytes"), ReceivedAt);
        var twice = FailedMessageReceipt.Read(properties, [], Encoding.UTF8.GetBytes("bytes"), ReceivedAt.AddSeconds(1));

        Assert.Multiple(() =>
        {
            Assert.That(twice.Message.Id, Is.EqualTo(once.Message.Id));
            Assert.That(once.Failure.ExceptionType, Is.EqualTo("(unknown)"));
            Assert.That(once.Message.Queue, Is.Null, "it cannot be retried without knowing its queue");
        });
    }

    [TestCase("rabbitmq://queue/payments", "payments")]
    [TestCase("payments", "payments")]
    [TestCase("rabbitmq://exchange/OrderPlaced", null)]
    [TestCase("", null)]
    public void The_queue_comes_from_the_destination(string destination, string? queue) =>
        Assert.That(FailedMessageReceipt.QueueName(destination), Is.EqualTo(queue));

    [Test]
    public void A_retry_carries_the_original_headers_without_the_failure_and_with_the_retry_marker()
    {
        var stored = EndpointFailureHeaders();
        stored["x-delivery-count"] = "2";
        stored["attempts"] = "6";

        var headers = RetrySender.HeadersForRetry(stored, (ServiceControlContract.RetryHeader, MessageId.ToString()));

        Assert.Multiple(() =>
        {
            Assert.That(headers.Keys, Is.EquivalentTo(new[] { "correlation-id", ServiceControlContract.RetryHeader }));
            Assert.That(Encoding.UTF8.GetString((byte[])headers[ServiceControlContract.RetryHeader]!), Is.EqualTo(MessageId.ToString()));
        });
    }
}
