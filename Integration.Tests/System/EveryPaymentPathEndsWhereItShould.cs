using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Conveyor.Messages;
using Conveyor.Topology;
using Integration.Tests.Infrastructure;
using Integration.Tests.ServiceControl;
using RabbitMQ.Client;

namespace Integration.Tests.System;

/// <summary>
/// Every path of the order flow across the three real processes, one order per payment token, counted in
/// the databases and the SMTP catcher: exactly one payment per order, at most one refund, one e-mail per kind.
/// </summary>
public class EveryPaymentPathEndsWhereItShould : SystemFixture
{
    private HttpClient _paymentsAdmin = null!;
    private Broker _broker = null!;
    private ServiceControlClient _failed = null!;

    [OneTimeSetUp]
    public async Task ConnectTheTools()
    {
        _broker = await Broker.ConnectAsync();
        _failed = ServiceControlClient.ForRunningSystem();
        _paymentsAdmin = Tokens.ClientAs("olivia", RunningSystem.PaymentsApi);
    }

    [OneTimeTearDown]
    public async Task DisconnectTheTools()
    {
        _paymentsAdmin?.Dispose();
        _failed?.Dispose();
        if (_broker is not null) await _broker.DisposeAsync();
    }

    private Task<JsonElement> WaitForState(Placed order, string status, string? reason = null) =>
        base.WaitForState(order, reason is null ? status : $"{status}({reason})", timeout: null);

    /// <summary>Waits until the e-mails of these kinds are recorded, then counts what really reached the SMTP server.</summary>
    private static async Task<IReadOnlyList<SmtpCatcher.Message>> MailsOnceRecorded(Placed order, int kinds)
    {
        await TestEnvironment.Eventually(() => SystemDatabases.NotificationsFor(order.Id), n => n >= kinds, $"{kinds} notification(s) recorded for {order.Id}");
        return await TestEnvironment.Eventually(() => SmtpCatcher.MessagesAbout(order.Id), m => m.Count >= kinds, $"{kinds} e-mail(s) about {order.Id}");
    }

    [Test]
    public async Task Tok_ok_is_confirmed_with_one_payment_and_one_confirmation()
    {
        var order = await PlaceOrder("tok_ok");

        await WaitForState(order, "Confirmed");
        var mails = await MailsOnceRecorded(order, 1);

        Assert.Multiple(async () =>
        {
            Assert.That(await SystemDatabases.PaymentsFor(order.Id), Is.EqualTo(1));
            Assert.That(await SystemDatabases.PaymentStatusOf(order.Id), Is.EqualTo("Authorized"));
            Assert.That(await SystemDatabases.RefundsFor(order.Id), Is.Zero);
            Assert.That(mails.Select(m => m.Subject), Is.EqualTo(new[] { mails[0].Subject }).And.All.EndWith("is confirmed"));
        });
    }

    [Test]
    public async Task Tok_declined_is_cancelled_as_PaymentDeclined_and_nothing_is_refunded()
    {
        var order = await PlaceOrder("tok_declined");

        await WaitForState(order, "Cancelled", "PaymentDeclined");
        var mails = await MailsOnceRecorded(order, 1);

        Assert.Multiple(async () =>
        {
            Assert.That(await SystemDatabases.PaymentStatusOf(order.Id), Is.EqualTo("Declined"));
            Assert.That(await SystemDatabases.RefundsFor(order.Id), Is.Zero);
            Assert.That(mails.Single().Subject, Does.EndWith("was cancelled"));
        });
    }

    [Test]
    public async Task Tok_flaky_is_confirmed_after_its_transient_failures_with_one_payment()
    {
        var order = await PlaceOrder("tok_flaky");

        await WaitForState(order, "Confirmed");
        var mails = await MailsOnceRecorded(order, 1);

        Assert.Multiple(async () =>
        {
            Assert.That(await SystemDatabases.PaymentsFor(order.Id), Is.EqualTo(1));
            Assert.That(await SystemDatabases.PaymentStatusOf(order.Id), Is.EqualTo("Authorized"));
            Assert.That(mails, Has.Count.EqualTo(1));
        });
    }

    [Test]
    public async Task Tok_slow_is_cancelled_at_the_deadline_and_its_late_payment_refunded_once()
    {
        var order = await PlaceOrder("tok_slow");

        await WaitForState(order, "Cancelled", "PaymentTimedOut");
        var refunded = await WaitForState(order, "Refunded", "PaymentTimedOut");
        var mails = await MailsOnceRecorded(order, 2);

        Assert.Multiple(async () =>
        {
            Assert.That(refunded.GetProperty("refundedAmount").GetDecimal(), Is.EqualTo(62.40m));
            Assert.That(await SystemDatabases.PaymentsFor(order.Id), Is.EqualTo(1));
            Assert.That(await SystemDatabases.PaymentStatusOf(order.Id), Is.EqualTo("Refunded"));
            Assert.That(await SystemDatabases.RefundsFor(order.Id), Is.EqualTo(1));
            Assert.That(mails.Select(m => m.Subject).ToList(), Has.Count.EqualTo(2).And.Some.EndWith("was cancelled").And.Some.StartWith("Refund issued"));
        });
    }

    [Test]
    public async Task Tok_down_is_cancelled_at_the_deadline_and_its_OrderPlaced_is_in_error_after_every_retry()
    {
        var order = await PlaceOrder("tok_down");

        var failed = await _failed.WaitForOrderPlacedAsync(order.Id, "the tok_down OrderPlaced in error, stored by ServiceControl");
        await WaitForState(order, "Cancelled", "PaymentTimedOut");
        var mails = await MailsOnceRecorded(order, 1);
        // Payments voids the payment when it handles the OrderCancelled, independently of the e-mail above.
        await TestEnvironment.Eventually(() => SystemDatabases.PaymentStatusOf(order.Id), status => status == "Voided", $"order {order.Id}'s payment to be voided");

        var body = JsonSerializer.Deserialize<OrderPlaced>(failed.GetProperty("body").GetString()!, MessageJson.Options)!;
        Assert.Multiple(async () =>
        {
            Assert.That(failed.GetProperty("properties").GetProperty("type").GetString(), Is.EqualTo(typeof(OrderPlaced).FullName));
            Assert.That(body.OrderId, Is.EqualTo(order.Id), "the original body is kept");
            Assert.That(failed.GetProperty("properties").GetProperty("messageId").GetString(), Is.Not.Null.And.Not.Empty, "the original id is kept");
            Assert.That(failed.GetProperty("stackTrace").GetString(), Does.Contain("PaymentProviderSimulator"), "the stack trace is kept");
            Assert.That(ServiceControlClient.Header(failed, "exception-type"), Does.EndWith("PaymentProviderUnavailableException"));
            Assert.That(ServiceControlClient.Header(failed, "exception-message"), Does.Contain("unavailable"));
            Assert.That(ServiceControlClient.Header(failed, "exception-stack"), Is.Not.Empty);
            Assert.That(ServiceControlClient.Header(failed, "conveyor-attempts"), Is.EqualTo(RunningSystem.Timings.TotalAttempts.ToString()),
                "it failed after every configured retry, not sooner");
            Assert.That(ServiceControlClient.Header(failed, "conveyor-endpoint"), Is.EqualTo(SystemTopology.Payments.Name));
            Assert.That(ServiceControlClient.Header(failed, "conveyor-queue"), Is.EqualTo("rabbitmq://queue/payments"));
            Assert.That(ServiceControlClient.Header(failed, "conveyor-message-type"), Is.EqualTo(typeof(OrderPlaced).FullName));
            Assert.That(ServiceControlClient.Header(failed, "conveyor-correlation-id"), Is.EqualTo(order.Id.ToString()));
            var first = DateTimeOffset.Parse(ServiceControlClient.Header(failed, "conveyor-first-failure-at")!);
            var last = DateTimeOffset.Parse(ServiceControlClient.Header(failed, "conveyor-last-failure-at")!);
            Assert.That(last - first, Is.GreaterThanOrEqualTo(TimeSpan.FromSeconds(3)), "the delayed retries (0.5 s + 1 s + 2 s) happened in between");
            Assert.That(await SystemDatabases.PaymentStatusOf(order.Id), Is.EqualTo("Voided"), "cancelled before any charge: none will follow");
            Assert.That(mails.Single().Subject, Does.EndWith("was cancelled"));
        });
    }

    [Test]
    public async Task A_confirmed_order_cancelled_by_the_customer_is_refunded_once()
    {
        var order = await PlaceOrder("tok_ok");
        await WaitForState(order, "Confirmed");

        var cancel = await Api.PostAsync($"{order.Location}/cancel", null);
        var again = await Api.PostAsync($"{order.Location}/cancel", null);
        await WaitForState(order, "Refunded", "CustomerRequested");
        var afterRefund = await Api.PostAsync($"{order.Location}/cancel", null);
        var mails = await MailsOnceRecorded(order, 3);

        Assert.Multiple(async () =>
        {
            Assert.That(cancel.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), "cancelling again is harmless");
            Assert.That(afterRefund.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(await SystemDatabases.RefundsFor(order.Id), Is.EqualTo(1));
            Assert.That(mails.Select(m => m.Subject).ToList(), Has.Count.EqualTo(3)
                .And.Some.EndWith("is confirmed").And.Some.EndWith("was cancelled").And.Some.StartWith("Refund issued"));
        });
    }

    [Test]
    public async Task Cancelling_an_unknown_order_is_404_problem_details()
    {
        var response = await Api.PostAsync($"/orders/{Guid.NewGuid()}/cancel", null);

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        });
    }

    [Test]
    public async Task The_payment_status_is_what_Payments_reported_to_Orders()
    {
        var order = await PlaceOrder("tok_ok");
        await WaitForState(order, "Confirmed");

        var report = await Api.GetFromJsonAsync<JsonElement>($"{order.Location}/payment");

        Assert.Multiple(() =>
        {
            Assert.That(report.GetProperty("status").GetString(), Is.EqualTo("Authorized"));
            Assert.That(report.GetProperty("paymentId").GetGuid(), Is.EqualTo(PaymentIds.PaymentFor(order.Id)));
            Assert.That(report.GetProperty("amount").GetDecimal(), Is.EqualTo(62.40m));
            Assert.That(report.GetProperty("currency").GetString(), Is.EqualTo("EUR"));
            Assert.That(report.GetProperty("providerReference").GetString(), Does.StartWith("sim_ch_"));
        });
    }

    [Test]
    public async Task While_the_provider_outage_switch_is_on_an_order_fails_into_error_after_every_retry()
    {
        var on = await _paymentsAdmin.PutAsJsonAsync("/admin/provider-outage", new { active = true });
        Placed order;
        try
        {
            order = await PlaceOrder("tok_ok");
            var failed = await _failed.WaitForOrderPlacedAsync(order.Id, "the OrderPlaced in error during the outage");
            Assert.Multiple(() =>
            {
                Assert.That(on.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                Assert.That(ServiceControlClient.Header(failed, "exception-message"), Does.Contain("outage"));
                Assert.That(ServiceControlClient.Header(failed, "conveyor-attempts"), Is.EqualTo(RunningSystem.Timings.TotalAttempts.ToString()));
            });
        }
        finally
        {
            await _paymentsAdmin.PutAsJsonAsync("/admin/provider-outage", new { active = false });
        }

        await WaitForState(order, "Cancelled", "PaymentTimedOut");
        var after = await PlaceOrder("tok_ok");
        await WaitForState(after, "Confirmed");
        Assert.That(await SystemDatabases.PaymentsFor(order.Id), Is.EqualTo(1), "only the void: no charge was made for the failed order");
    }

    [Test]
    public async Task Poison_bytes_go_to_error_unchanged_and_the_endpoint_keeps_processing()
    {
        var garbage = Encoding.UTF8.GetBytes("{\"orderId\": \"not a guid\", \u0000 garbage");
        var claimsToBeOrderPlaced = new BasicProperties
        {
            MessageId = Guid.NewGuid().ToString(),
            Type = typeof(OrderPlaced).FullName,
            ContentType = "application/json",
            Persistent = true,
        };
        var untyped = new BasicProperties { MessageId = Guid.NewGuid().ToString(), Persistent = true };

        await _broker.Channel.BasicPublishAsync("", SystemTopology.Payments.Queue, mandatory: true, claimsToBeOrderPlaced, garbage);
        await _broker.Channel.BasicPublishAsync("", SystemTopology.Payments.Queue, mandatory: true, untyped, garbage);

        var badJson = await _failed.WaitForAsync(m => m.GetProperty("messageId").GetString() == claimsToBeOrderPlaced.MessageId, "the invalid OrderPlaced in error");
        var noType = await _failed.WaitForAsync(m => m.GetProperty("messageId").GetString() == untyped.MessageId, "the untyped bytes in error");
        var order = await PlaceOrder("tok_ok");
        await WaitForState(order, "Confirmed");

        Assert.Multiple(async () =>
        {
            Assert.That(await SystemDatabases.StoredBodyOf(claimsToBeOrderPlaced.MessageId), Is.EqualTo(garbage), "body unchanged");
            Assert.That(await SystemDatabases.StoredBodyOf(untyped.MessageId), Is.EqualTo(garbage), "body unchanged");
            Assert.That(ServiceControlClient.Header(badJson, "exception-type"), Does.Contain("Json"));
            Assert.That(ServiceControlClient.Header(badJson, "conveyor-attempts"), Is.EqualTo("1"), "no retries for poison");
            Assert.That(ServiceControlClient.Header(badJson, "conveyor-endpoint"), Is.EqualTo(SystemTopology.Payments.Name));
        });
    }

    [Test]
    public async Task An_OrderPlaced_that_breaks_the_contract_goes_to_error_without_retries()
    {
        var (orderId, messageId) = await FailedMessages.SendInvalidOrderPlacedAsync();

        var failed = await _failed.WaitForAsync(FailedMessages.FailedInPayments(messageId), "the invalid OrderPlaced in error");
        Assert.Multiple(async () =>
        {
            Assert.That(ServiceControlClient.Header(failed, "exception-type"), Does.EndWith("MessageValidationException"));
            Assert.That(ServiceControlClient.Header(failed, "conveyor-attempts"), Is.EqualTo("1"));
            Assert.That(await SystemDatabases.PaymentsFor(orderId), Is.Zero);
        });
    }

    [Test]
    public async Task The_same_OrderPlaced_under_two_more_message_ids_still_makes_one_payment_and_one_email()
    {
        var order = await PlaceOrder("tok_ok");
        var view = await GetOrder(order.Location);
        var again = new OrderPlaced(order.Id, view.GetProperty("customerId").GetString()!, Tokens.EmailOf("alice"), "EUR",
            [new OrderLine("BOOK-DDD", 1, 42.50m), new OrderLine("MUG", 2, 9.95m)], 62.40m, "tok_ok", view.GetProperty("placedAt").GetDateTimeOffset());
        var body = JsonSerializer.SerializeToUtf8Bytes(again, MessageJson.Options);

        // Published as Orders publishes: only its user may, and the consumers check that.
        var copies = new[] { Guid.NewGuid(), Guid.NewGuid() };
        await using var orders = await Broker.ConnectAsAsync(SystemTopology.Orders);
        foreach (var id in copies)
        {
            await orders.PublishAsync(SystemTopology.ExchangeFor(typeof(OrderPlaced)), new BasicProperties
            {
                MessageId = id.ToString(), Type = typeof(OrderPlaced).FullName, ContentType = "application/json",
                CorrelationId = order.Id.ToString(), Persistent = true,
            }, body);
        }

        await WaitForState(order, "Confirmed");
        foreach (var id in copies)
        {
            await TestEnvironment.Eventually(() => SystemDatabases.HandledByPayments(id), n => n == 1, $"Payments to handle copy {id}");
            await TestEnvironment.Eventually(() => SystemDatabases.HandledByNotifications(id), n => n == 1, $"Notifications to handle copy {id}");
        }

        var mails = await MailsOnceRecorded(order, 1);
        Assert.Multiple(async () =>
        {
            Assert.That(await SystemDatabases.PaymentsFor(order.Id), Is.EqualTo(1));
            Assert.That(mails, Has.Count.EqualTo(1));
        });
    }
}
