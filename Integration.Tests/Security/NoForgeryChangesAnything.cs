using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Conveyor.Hosting;
using Conveyor.Hosting.ServiceControl;
using Conveyor.Messages;
using Conveyor.Topology;
using Integration.Tests.Infrastructure;
using Integration.Tests.ServiceControl;
using Integration.Tests.System;
using RabbitMQ.Client;

namespace Integration.Tests.Security;

/// <summary>
/// Messages that say what is not so, sent the way an attacker with broker credentials would: a payment confirmation
/// from someone who is not Payments (the broker vouches for the sender in <c>user_id</c>), or from Payments but for
/// another amount or payment; a failure planted in <c>error</c> for another endpoint's queue, or under a real failure's
/// id; a retry confirmation or heartbeat for another endpoint. Each changes nothing, ends where an operator sees it
/// with its reason, and cannot be retried into the system.
/// </summary>
public class NoForgeryChangesAnything : SystemFixture
{
    private ServiceControlClient _serviceControl = null!;

    [OneTimeSetUp]
    public void ConnectTheTools() => _serviceControl = ServiceControlClient.ForRunningSystem();

    [OneTimeTearDown]
    public void DisconnectTheTools() => _serviceControl?.Dispose();

    private const decimal OrderTotal = 62.40m;

    private static BasicProperties Typed<T>(Guid correlation, Dictionary<string, object?>? headers = null) => new()
    {
        MessageId = Guid.NewGuid().ToString(), Type = typeof(T).FullName, ContentType = "application/json",
        CorrelationId = correlation.ToString(), Persistent = true, Headers = headers,
    };

    private static byte[] Json<T>(T message) => JsonSerializer.SerializeToUtf8Bytes(message, MessageJson.Options);

    private Task<JsonElement> FailureOf(string messageId, string what, string status = "Unresolved") =>
        _serviceControl.WaitForAsync(m => m.GetProperty("messageId").GetString() == messageId, what, status);

    private Task<JsonElement> PaymentsFailureOf(string messageId, string what) => _serviceControl.WaitForAsync(FailedMessages.FailedInPayments(messageId), what);

    /// <summary>The order ends as its real payment decides (tok_down: never paid, so cancelled at the deadline), with no confirmation e-mail.</summary>
    private async Task AssertNeverConfirmed(Placed order)
    {
        await WaitForState(order, "Cancelled(PaymentTimedOut)");
        await TestEnvironment.Eventually(() => SystemDatabases.NotificationsFor(order.Id), n => n >= 1, $"the cancellation e-mail of {order.Id} recorded");
        var mails = await TestEnvironment.Eventually(() => SmtpCatcher.MessagesAbout(order.Id), m => m.Count >= 1, $"the cancellation e-mail of {order.Id}");
        var view = await GetOrder(order.Location);
        Assert.Multiple(() =>
        {
            Assert.That(mails.Select(m => m.Subject), Has.None.EndWith("is confirmed"), "no confirmation went out");
            Assert.That(mails.Select(m => m.Subject), Has.Some.EndWith("was cancelled"));
            Assert.That(view.GetProperty("timeline").EnumerateArray().Select(t => t.GetProperty("status").GetString()), Has.None.EqualTo("Confirmed"));
        });
    }

    [Test]
    public async Task A_PaymentAuthorized_not_published_by_Payments_confirms_nothing_and_ends_in_error_with_its_reason()
    {
        // tok_down: Payments never authorizes it, so only a forgery could confirm it.
        var order = await PlaceOrder("tok_down");
        var forged = new PaymentAuthorized(order.Id, PaymentIds.PaymentFor(order.Id), OrderTotal, "EUR", "sim_ch_forged", DateTimeOffset.UtcNow);
        // The operator's user may write every exchange, as a leaked admin password would; it claims to be Payments in
        // the header the endpoints read the sender from, which the broker's user_id replaces.
        var properties = Typed<PaymentAuthorized>(order.Id, new Dictionary<string, object?> { [BrokerIdentity.SenderHeader] = Encoding.UTF8.GetBytes(SystemTopology.Payments.BrokerUser) });
        await using (var admin = await Broker.ConnectAsync())
        {
            await admin.PublishAsync(SystemTopology.ExchangeFor(typeof(PaymentAuthorized)), properties, Json(forged));
        }

        // Orders refused it for its sender, so ServiceControl files it as rejected: no retry can deliver it with its rights.
        var failed = await FailureOf(properties.MessageId!, "the forged PaymentAuthorized in error", status: "Rejected");
        Assert.Multiple(() =>
        {
            Assert.That(ServiceControlClient.Header(failed, "exception-type"), Does.EndWith(nameof(UntrustedSenderException)));
            Assert.That(ServiceControlClient.Header(failed, "exception-message"), Does.Contain($"'{BrokerDefinitions.OperatorUser}'").And.Contain(SystemTopology.Payments.BrokerUser));
            Assert.That(failed.GetProperty("summary").GetProperty("endpoint").GetString(), Is.EqualTo(SystemTopology.Orders.Name));
        });
        await AssertNeverConfirmed(order);
    }

    [Test]
    public async Task An_OrderPlaced_not_published_by_Orders_reserves_no_stock_in_Inventory_and_cannot_be_retried_into_it()
    {
        var forged = new OrderPlaced(Guid.NewGuid(), "customer-forged", "mallory@example.com", "EUR", [new OrderLine("PRINT-LIMITED", 10, 120m)], 1200m, "tok_ok", DateTimeOffset.UtcNow);
        var properties = Typed<OrderPlaced>(forged.OrderId);
        await using (var admin = await Broker.ConnectAsync())
        {
            await admin.PublishAsync(SystemTopology.ExchangeFor(typeof(OrderPlaced)), properties, Json(forged));
        }

        // Inventory (Node.js) refuses it for its sender in the contract's terms, so ServiceControl rejects it as it does Orders' refusals.
        var failed = await _serviceControl.WaitForAsync(
            m => m.GetProperty("messageId").GetString() == properties.MessageId && m.GetProperty("endpoint").GetString() == SystemTopology.Inventory.Name,
            "the forged OrderPlaced refused by Inventory", status: "Rejected");
        var reservations = await Sql.ScalarAsync<long>(SystemDatabases.ConnectionTo(SystemTopology.Inventory), "select count(*) from reservations where order_id = @o", ("o", forged.OrderId));
        Assert.Multiple(() =>
        {
            Assert.That(ServiceControlClient.Header(failed, "exception-type"), Does.EndWith(nameof(UntrustedSenderException)));
            Assert.That(ServiceControlClient.Header(failed, "exception-message"), Does.Contain(BrokerDefinitions.OperatorUser));
            Assert.That(reservations, Is.Zero, "no stock held for the forgery");
        });
    }

    [TestCase(0.01, false, "total")]
    [TestCase(62.40, true, "payment")]
    public async Task A_PaymentAuthorized_from_Payments_that_does_not_match_the_order_confirms_nothing(decimal amount, bool anotherPayment, string reason)
    {
        var order = await PlaceOrder("tok_down");
        var paymentId = anotherPayment ? PaymentIds.PaymentFor(Guid.NewGuid()) : PaymentIds.PaymentFor(order.Id);
        var forged = new PaymentAuthorized(order.Id, paymentId, amount, "EUR", "sim_ch_forged", DateTimeOffset.UtcNow);
        var properties = Typed<PaymentAuthorized>(order.Id);
        await using (var payments = await Broker.ConnectAsAsync(SystemTopology.Payments))
        {
            await payments.PublishAsync(SystemTopology.ExchangeFor(typeof(PaymentAuthorized)), properties, Json(forged));
        }

        var failed = await FailureOf(properties.MessageId!, "the mismatching PaymentAuthorized in error");
        Assert.Multiple(() =>
        {
            Assert.That(ServiceControlClient.Header(failed, "exception-type"), Does.EndWith(nameof(MessageValidationException)));
            Assert.That(ServiceControlClient.Header(failed, "exception-message"), Does.Contain(reason).And.Contain("nothing"));
            Assert.That(ServiceControlClient.Header(failed, "conveyor-attempts"), Is.EqualTo("1"), "refused at once, not retried");
        });
        await AssertNeverConfirmed(order);
    }

    [Test]
    public async Task A_failure_planted_in_error_for_another_endpoints_queue_is_rejected_and_cannot_be_retried()
    {
        // A real failure of Payments, and a forgery from Notifications' user under the same message id, naming
        // Payments' queue, carrying a refund Payments would act on if it were ever retried.
        var (orderId, messageId) = await FailedMessages.SendInvalidOrderPlacedAsync();
        var real = await PaymentsFailureOf(messageId, "the real failure stored");
        var realBody = await SystemDatabases.StoredBodyOf(messageId);
        var before = await _serviceControl.Http.GetFromJsonAsync<JsonElement>("/api/failed-messages/counts");

        var refund = Json(new RefundPayment(orderId, PaymentIds.PaymentFor(orderId), "forged"));
        var planted = FailedMessages.Failure(messageId, typeof(RefundPayment).FullName!, "Tests.Planted", "retry me", SystemTopology.Payments.Queue, DateTimeOffset.UtcNow);
        await using (var notifications = await Broker.ConnectAsAsync(SystemTopology.Notifications))
        {
            await notifications.PublishAsync(ConveyorEndpoint.ErrorQueue, planted, refund);
        }

        var rejected = await FailureOf(messageId, "the planted failure, rejected", status: "Rejected");
        var rejectedId = ServiceControlClient.IdOf(rejected);
        var retryOne = await _serviceControl.PostAsync($"/api/failed-messages/{rejectedId}/retry");
        var edit = await _serviceControl.PostAsync($"/api/failed-messages/{rejectedId}/edit-and-retry", new { body = "{}" });
        var retryAll = await _serviceControl.PostAsync("/api/failed-messages/retry-all");
        var after = await _serviceControl.Http.GetFromJsonAsync<JsonElement>("/api/failed-messages/counts");
        var realAfter = await _serviceControl.GetAsync(ServiceControlClient.IdOf(real));

        Assert.Multiple(async () =>
        {
            Assert.That(rejectedId, Is.Not.EqualTo(ServiceControlClient.IdOf(real)), "kept apart from the record whose id it reused");
            Assert.That(rejected.GetProperty("summary").GetProperty("exceptionMessage").GetString(),
                Does.Contain($"'{SystemTopology.Notifications.BrokerUser}'").And.Contain(SystemTopology.Payments.Queue));
            Assert.That(retryOne.StatusCode, Is.EqualTo(HttpStatusCode.Conflict), "a rejected message is never retried");
            Assert.That(edit.StatusCode, Is.EqualTo(HttpStatusCode.Conflict), "nor edited and retried");
            Assert.That(retryAll.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(ServiceControlClient.StatusOf(await _serviceControl.GetAsync(rejectedId)), Is.EqualTo("Rejected"), "retry-all leaves it where it is");
            Assert.That(after.GetProperty("rejected").GetInt32(), Is.EqualTo(before.GetProperty("rejected").GetInt32() + 1), "counted as rejected");
            Assert.That(await SystemDatabases.StoredBodyOf(messageId), Is.EqualTo(realBody), "the real failure's body is untouched");
            Assert.That(ServiceControlClient.FailureCountOf(realAfter), Is.GreaterThanOrEqualTo(1));
            Assert.That(await SystemDatabases.RefundsFor(orderId), Is.Zero, "nothing was refunded");
        });
    }

    [Test]
    public async Task A_later_copy_of_a_failure_never_replaces_the_body_a_retry_sends()
    {
        var (_, messageId) = await FailedMessages.SendInvalidOrderPlacedAsync();
        var real = await PaymentsFailureOf(messageId, "the real failure stored");
        var body = await SystemDatabases.StoredBodyOf(messageId);

        // Even from the queue's own endpoint: what a retry sends is what failed first.
        await using (var payments = await Broker.ConnectAsAsync(SystemTopology.Payments))
        {
            await payments.PublishAsync(ConveyorEndpoint.ErrorQueue,
                FailedMessages.Failure(messageId, typeof(OrderPlaced).FullName!, "Tests.Later", "a later copy", SystemTopology.Payments.Queue, DateTimeOffset.UtcNow),
                "{\"replaced\": true}"u8.ToArray());
        }

        var later = await TestEnvironment.Eventually(() => _serviceControl.GetAsync(ServiceControlClient.IdOf(real)), d => ServiceControlClient.FailureCountOf(d) >= 2, "the later failure recorded");
        Assert.Multiple(async () =>
        {
            Assert.That(await SystemDatabases.StoredBodyOf(messageId), Is.EqualTo(body));
            Assert.That(later.GetProperty("summary").GetProperty("exceptionMessage").GetString(), Is.EqualTo("a later copy"), "its failure is in the history");
        });
    }

    [Test]
    public async Task A_retry_confirmation_or_heartbeat_for_another_endpoint_changes_nothing()
    {
        var (_, messageId) = await FailedMessages.SendInvalidOrderPlacedAsync();
        var failed = await PaymentsFailureOf(messageId, "the failure stored");
        var failedId = ServiceControlClient.IdOf(failed);
        var host = $"forged-{Guid.NewGuid():N}";

        await using (var notifications = await Broker.ConnectAsAsync(SystemTopology.Notifications))
        {
            await notifications.PublishAsync(nameof(RetrySucceeded), Typed<RetrySucceeded>(Guid.NewGuid()),
                Json(new RetrySucceeded(failedId, SystemTopology.Payments.Name, DateTimeOffset.UtcNow)));
            await notifications.PublishAsync(nameof(EndpointHeartbeat), Typed<EndpointHeartbeat>(Guid.NewGuid()),
                Json(new EndpointHeartbeat(SystemTopology.Payments.Name, host, 1, DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, TimeSpan.FromSeconds(1), [], new MessageCounters(0, 0, 0, 0, 0))));
        }

        // Both refusals end in error as ServiceControl's own failures, with the reason.
        var refusedConfirmation = await _serviceControl.WaitForAsync(
            m => m.GetProperty("messageType").GetString() == typeof(RetrySucceeded).FullName && m.GetProperty("exceptionMessage").GetString()!.Contains(failedId.ToString()),
            "the forged RetrySucceeded refused", status: "Rejected");
        var refusedHeartbeat = await _serviceControl.WaitForAsync(
            m => m.GetProperty("messageType").GetString() == typeof(EndpointHeartbeat).FullName && m.GetProperty("exceptionMessage").GetString()!.Contains(SystemTopology.Notifications.BrokerUser),
            "the forged heartbeat refused", status: "Rejected");
        var endpoints = await _serviceControl.Http.GetFromJsonAsync<JsonElement>("/api/endpoints");

        Assert.Multiple(async () =>
        {
            Assert.That(ServiceControlClient.StatusOf(await _serviceControl.GetAsync(failedId)), Is.EqualTo("Unresolved"), "the failure is still there");
            Assert.That(refusedConfirmation.GetProperty("summary").GetProperty("exceptionType").GetString(), Does.EndWith(nameof(UntrustedSenderException)));
            Assert.That(refusedHeartbeat.GetProperty("summary").GetProperty("exceptionType").GetString(), Does.EndWith(nameof(UntrustedSenderException)));
            Assert.That(endpoints.ToString(), Does.Not.Contain(host), "no instance was made up");
        });
    }
}
