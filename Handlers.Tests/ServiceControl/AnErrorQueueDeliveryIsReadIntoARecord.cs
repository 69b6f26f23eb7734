using System.Text;
using Conveyor.Hosting.ServiceControl;
using Conveyor.ServiceControl.FailedMessages;
using Conveyor.Topology;

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
        ["conveyor-endpoint"] = SystemTopology.Payments.Name,
        ["conveyor-queue"] = $"rabbitmq://queue/{SystemTopology.Payments.Queue}",
        ["conveyor-message-type"] = "Conveyor.Messages.OrderPlaced",
        ["conveyor-attempts"] = "6",
        ["conveyor-first-failure-at"] = "2026-11-27T09:59:40.0000000+00:00",
        ["conveyor-last-failure-at"] = "2026-11-27T09:59:58.0000000+00:00",
        ["correlation-id"] = "01a21c9e-288f-793a-9c6e-457e307f3eae",
    };

    /// <summary>The broker user that put the failure into error: the endpoint owning its queue.</summary>
    private static readonly string Payments = SystemTopology.Payments.BrokerUser;

    private static readonly string Notifications = SystemTopology.Notifications.BrokerUser;

    private static MessageProperties Properties => new() { MessageId = MessageId.ToString(), Type = "Conveyor.Messages.OrderPlaced", ContentType = "application/json" };

    [Test]
    public void An_endpoint_failure_is_read_from_its_headers()
    {
        var (message, failure, _) = FailedMessageReceipt.Read(Properties, EndpointFailureHeaders(), "{}"u8.ToArray(), ReceivedAt, Payments);

        Assert.Multiple(() =>
        {
            Assert.That(message.MessageId, Is.EqualTo(MessageId.ToString()));
            Assert.That(message.Queue, Is.EqualTo(SystemTopology.Payments.Queue));
            Assert.That(message.Endpoint, Is.EqualTo(SystemTopology.Payments.Name));
            Assert.That(message.MessageType, Is.EqualTo("Conveyor.Messages.OrderPlaced"));
            Assert.That(failure.ExceptionType, Is.EqualTo("Conveyor.Payments.PaymentProviderUnavailableException"));
            Assert.That(failure.Attempts, Is.EqualTo(6));
            Assert.That(failure.FailedAt, Is.EqualTo(new DateTimeOffset(2026, 11, 27, 9, 59, 58, TimeSpan.Zero)));
            Assert.That(failure.FirstFailedAt, Is.EqualTo(new DateTimeOffset(2026, 11, 27, 9, 59, 40, TimeSpan.Zero)));
        });
    }

    [Test]
    public void An_event_failing_in_two_subscribers_is_two_records_each_of_its_queue()
    {
        var inPayments = FailedMessageReceipt.Read(Properties, EndpointFailureHeaders(), "{}"u8.ToArray(), ReceivedAt, Payments);
        var inventoryHeaders = EndpointFailureHeaders();
        inventoryHeaders["conveyor-endpoint"] = SystemTopology.Inventory.Name;
        inventoryHeaders["conveyor-queue"] = $"rabbitmq://queue/{SystemTopology.Inventory.Queue}";
        var inInventory = FailedMessageReceipt.Read(Properties, inventoryHeaders, "{}"u8.ToArray(), ReceivedAt, SystemTopology.Inventory.BrokerUser);

        Assert.Multiple(() =>
        {
            Assert.That(inInventory.Message.Id, Is.Not.EqualTo(inPayments.Message.Id), "a retry of one goes to its own queue, and resolves only it");
            Assert.That(inInventory.Message.MessageId, Is.EqualTo(inPayments.Message.MessageId));
            Assert.That((inPayments.Message.Queue, inInventory.Message.Queue), Is.EqualTo((SystemTopology.Payments.Queue, SystemTopology.Inventory.Queue)));
        });
    }

    [Test]
    public void A_redelivery_has_the_same_failure_key_and_a_new_failure_another()
    {
        var first = FailedMessageReceipt.Read(Properties, EndpointFailureHeaders(), "{}"u8.ToArray(), ReceivedAt, Payments);
        var redelivered = EndpointFailureHeaders();
        redelivered["x-delivery-count"] = "1";
        var again = FailedMessageReceipt.Read(Properties, redelivered, "{}"u8.ToArray(), ReceivedAt.AddSeconds(30), Payments);
        var failedAgain = EndpointFailureHeaders();
        failedAgain["conveyor-last-failure-at"] = "2026-11-27T10:05:00.0000000+00:00";
        var later = FailedMessageReceipt.Read(Properties, failedAgain, "{}"u8.ToArray(), ReceivedAt.AddMinutes(5), Payments);

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
        var headers = new Dictionary<string, string?> { ["x-first-death-reason"] = "delivery_limit", ["x-first-death-queue"] = SystemTopology.Payments.Queue };

        var (message, failure, _) = FailedMessageReceipt.Read(Properties, headers, "{}"u8.ToArray(), ReceivedAt, Payments);

        Assert.Multiple(() =>
        {
            Assert.That(failure.ExceptionType, Does.Contain("dead-lettered by the broker: delivery_limit"));
            Assert.That(message.Queue, Is.EqualTo(SystemTopology.Payments.Queue));
            Assert.That(message.Endpoint, Is.EqualTo(SystemTopology.Payments.Name), "the endpoint that owns the queue it came from");
            Assert.That(failure.Endpoint, Is.EqualTo(SystemTopology.Payments.Name));
            Assert.That(failure.FailedAt, Is.EqualTo(ReceivedAt), "no failure time: when it arrived");
        });
    }

    [Test]
    public void A_message_without_an_id_gets_a_stable_one()
    {
        var properties = Properties with { MessageId = null };

        var headers = new Dictionary<string, string?> { ["conveyor-queue"] = $"rabbitmq://queue/{SystemTopology.Payments.Queue}" };
        var once = FailedMessageReceipt.Read(properties, headers, Encoding.UTF8.GetBytes("bytes"), ReceivedAt, Payments);
        var twice = FailedMessageReceipt.Read(properties, headers, Encoding.UTF8.GetBytes("bytes"), ReceivedAt.AddSeconds(1), Payments);
        var nothingKnown = FailedMessageReceipt.Read(properties, [], Encoding.UTF8.GetBytes("bytes"), ReceivedAt, publishedBy: "conveyor");

        Assert.Multiple(() =>
        {
            Assert.That(twice.Message.Id, Is.EqualTo(once.Message.Id));
            Assert.That(once.Failure.ExceptionType, Is.EqualTo("(unknown)"));
            Assert.That(nothingKnown.Message.Queue, Is.Null, "from a user that owns no queue, it names none: it cannot be retried");
            Assert.That(nothingKnown.Untrusted, Is.Not.Null, "and nobody owns a queue it does not name");
        });
    }

    [TestCase("rabbitmq://queue/a-queue", "a-queue")]
    [TestCase("a-queue", "a-queue")]
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

    [Test]
    public void A_failure_put_into_error_by_another_endpoint_than_the_queues_owner_is_refused_and_kept_apart()
    {
        var trusted = FailedMessageReceipt.Read(Properties, EndpointFailureHeaders(), "{}"u8.ToArray(), ReceivedAt, Payments);
        var forged = FailedMessageReceipt.Read(Properties, EndpointFailureHeaders(), "{\"forged\":true}"u8.ToArray(), ReceivedAt, Notifications);

        Assert.Multiple(() =>
        {
            Assert.That(trusted.Untrusted, Is.Null);
            Assert.That(forged.Untrusted, Does.Contain($"'{Notifications}'").And.Contain(SystemTopology.Payments.Queue));
            Assert.That(forged.Message.Id, Is.Not.EqualTo(trusted.Message.Id), "it can neither overwrite nor resolve the record of the id it claims");
            Assert.That(forged.Failure.ExceptionType, Does.Contain("untrusted sender"));
        });
    }

    [Test]
    public void A_failure_without_a_broker_user_or_for_a_queue_nobody_owns_is_refused()
    {
        var anonymous = FailedMessageReceipt.Read(Properties, EndpointFailureHeaders(), "{}"u8.ToArray(), ReceivedAt, publishedBy: null);
        var nowhere = EndpointFailureHeaders();
        nowhere["conveyor-queue"] = "rabbitmq://queue/nowhere";
        var unowned = FailedMessageReceipt.Read(Properties, nowhere, "{}"u8.ToArray(), ReceivedAt, Payments);

        Assert.Multiple(() =>
        {
            Assert.That(anonymous.Untrusted, Does.Contain("without a broker user"));
            Assert.That(unowned.Untrusted, Does.Contain("'nowhere'"));
        });
    }

    [Test]
    public void A_message_the_broker_dead_lettered_keeps_its_publisher_and_is_believed_when_the_topology_routes_it_there()
    {
        var headers = new Dictionary<string, string?> { ["x-first-death-reason"] = "delivery_limit", ["x-first-death-queue"] = SystemTopology.Payments.Queue };

        var fromTheirPublisher = FailedMessageReceipt.Read(Properties, headers, "{}"u8.ToArray(), ReceivedAt, SystemTopology.Orders.BrokerUser);
        var fromAnotherPublisher = FailedMessageReceipt.Read(Properties, headers, "{}"u8.ToArray(), ReceivedAt, Notifications);

        Assert.Multiple(() =>
        {
            Assert.That(fromTheirPublisher.Untrusted, Is.Null, "orders publishes OrderPlaced, and payments' queue is bound to it");
            Assert.That(fromAnotherPublisher.Untrusted, Is.Not.Null);
        });
    }

    [Test]
    public void A_message_its_endpoint_refused_for_its_sender_is_rejected_so_no_retry_delivers_it_with_ServiceControls_rights()
    {
        var refused = EndpointFailureHeaders();
        refused["exception-type"] = typeof(Conveyor.Hosting.UntrustedSenderException).FullName;
        refused["exception-message"] = $"OrderPlaced was published by broker user '{Notifications}'.";

        var receipt = FailedMessageReceipt.Read(Properties, refused, "{}"u8.ToArray(), ReceivedAt, Payments);

        Assert.Multiple(() =>
        {
            Assert.That(receipt.Untrusted, Does.Contain($"{SystemTopology.Payments.Name} refused it").And.Contain($"'{Notifications}'"));
            Assert.That(receipt.Message.Id, Is.Not.EqualTo(MessageId), "kept apart from the record of the id it claims");
            Assert.That(receipt.Failure.ExceptionType, Is.EqualTo(typeof(Conveyor.Hosting.UntrustedSenderException).FullName), "the endpoint's own words");
            Assert.That(receipt.Message.Endpoint, Is.EqualTo(SystemTopology.Payments.Name));
        });
    }

    [Test]
    public void A_failure_naming_no_queue_is_the_queue_of_the_endpoint_that_put_it_into_error()
    {
        // What Wolverine dead-letters on receipt when it cannot read a message type: no failure headers at all.
        var receipt = FailedMessageReceipt.Read(new MessageProperties { MessageId = MessageId.ToString() }, [], "garbage"u8.ToArray(), ReceivedAt, Payments);

        Assert.Multiple(() =>
        {
            Assert.That(receipt.Untrusted, Is.Null);
            Assert.That(receipt.Message.Queue, Is.EqualTo(SystemTopology.Payments.Queue));
            Assert.That(receipt.Message.Endpoint, Is.EqualTo(SystemTopology.Payments.Name));
        });
    }

    [Test]
    public void What_PostgreSQL_cannot_store_is_changed_and_noted_and_the_body_kept_byte_for_byte()
    {
        var headers = EndpointFailureHeaders();
        headers["x-note"] = "before\0after";
        headers["x-huge"] = new string('h', 100_000);
        headers["exception-message"] = "a NUL\0in the exception";
        var body = "{\"a\": \"\u0000\"}"u8.ToArray();

        var receipt = FailedMessageReceipt.Read(Properties, headers, body, ReceivedAt, Payments);

        Assert.Multiple(() =>
        {
            Assert.That(receipt.Message.Headers["x-note"], Is.EqualTo("before\uFFFDafter"));
            Assert.That(receipt.Message.Headers["x-huge"], Has.Length.EqualTo(64 * 1024));
            Assert.That(receipt.Failure.ExceptionMessage.Contains('\0'), Is.False, "no NUL left in the exception message");
            Assert.That(receipt.Message.StorageNote, Does.Contain("header 'x-note' held NUL").And.Contain("header 'x-huge' was 100000 characters"));
            Assert.That(receipt.Message.Body, Is.EqualTo(body));
        });
    }

    [Test]
    public void A_failure_that_needed_no_change_has_no_storage_note() =>
        Assert.That(FailedMessageReceipt.Read(Properties, EndpointFailureHeaders(), "{}"u8.ToArray(), ReceivedAt, Payments).Message.StorageNote, Is.Null);
}
