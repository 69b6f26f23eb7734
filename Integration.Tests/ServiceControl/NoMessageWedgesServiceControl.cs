using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Conveyor.Hosting;
using Conveyor.Topology;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;

namespace Integration.Tests.ServiceControl;

/// <summary>
/// Failures PostgreSQL would refuse as they came, or that would bloat every page showing them, put into <c>error</c>
/// the way Payments does: each is stored once, with a note of what had to change, and nothing stays in (or goes back
/// to) the queue. And the failed-message list refuses a page or page size past its bounds instead of overflowing.
/// </summary>
public class NoMessageWedgesServiceControl : SystemFixture
{
    private ServiceControlClient _serviceControl = null!;

    // A retry unconfirmed for 3 s goes back to the list (the default is 10 minutes).
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["ServiceControl__RetryConfirmationTimeout"] = "00:00:03",
        ["ServiceControl__RetryConfirmationCheckInterval"] = "00:00:01",
        // An instance silent for 10 s is forgotten (the default is a day); the test timings' grace period is 4 s.
        ["ServiceControl__ForgetInstancesSilentFor"] = "00:00:10",
        ["ServiceControl__RetentionCheckInterval"] = "00:00:01",
        // Unresolved failures kept a day after their last failure (by default for ever).
        ["ServiceControl__UnresolvedRetentionPeriod"] = "1.00:00:00",
    };

    [OneTimeSetUp]
    public void ConnectTheTools() => _serviceControl = ServiceControlClient.ForRunningSystem();

    [OneTimeTearDown]
    public void DisconnectTheTools() => _serviceControl?.Dispose();

    public static IEnumerable<TestCaseData> Unstorable()
    {
        yield return new TestCaseData("a NUL in a header", "x-note", "before\0after"u8.ToArray(), "{}"u8.ToArray(), "NUL").SetArgDisplayNames("NUL header");
        yield return new TestCaseData("invalid UTF-8 in a header", "x-note", new byte[] { 0x61, 0xC3, 0x28, 0xFF, 0x62 }, "{}"u8.ToArray(), "UTF-8").SetArgDisplayNames("invalid UTF-8");
        yield return new TestCaseData("a 100 KB header", "x-note", Encoding.UTF8.GetBytes(new string('h', 100 * 1024)), "{}"u8.ToArray(), "characters").SetArgDisplayNames("100 KB header");
        yield return new TestCaseData("a 5 MB body", "x-note", "small"u8.ToArray(), Encoding.UTF8.GetBytes("{\"blob\": \"" + new string('b', 5 * 1024 * 1024) + "\"}"), null).SetArgDisplayNames("5 MB body");
    }

    [TestCaseSource(nameof(Unstorable))]
    public async Task A_failure_PostgreSQL_would_refuse_as_it_came_is_stored_once_and_nothing_is_requeued(string what, string header, byte[] value, byte[] body, string? noted)
    {
        var messageId = Guid.NewGuid().ToString();
        var properties = FailedMessages.Failure(messageId, "Conveyor.Messages.OrderPlaced", "Tests.Unstorable", $"the failure carries {what}", SystemTopology.Payments.Queue, DateTimeOffset.UtcNow);
        properties.Headers![header] = value;
        await using (var payments = await Broker.ConnectAsAsync(SystemTopology.Payments))
        {
            await payments.PublishAsync(ConveyorEndpoint.ErrorQueue, properties, body);
        }

        var stored = await _serviceControl.WaitForAsync(m => m.GetProperty("messageId").GetString() == messageId, $"the failure with {what} stored");
        await using var operatorBroker = await Broker.ConnectAsync();
        var queued = await TestEnvironment.Eventually(() => operatorBroker.CountAsync(ConveyorEndpoint.ErrorQueue), n => n == 0, "error empty again");
        var ingestion = await _serviceControl.Http.GetFromJsonAsync<JsonElement>("/api/ingestion");
        var download = await _serviceControl.Http.GetAsync($"/api/failed-messages/{ServiceControlClient.IdOf(stored)}/body");

        Assert.Multiple(async () =>
        {
            Assert.That(ServiceControlClient.FailureCountOf(stored), Is.EqualTo(1), "stored once");
            Assert.That(queued, Is.Zero, "nothing left in error or sent back to it");
            Assert.That(await SystemDatabases.StoredBodyOf(messageId), Is.EqualTo(body), "the body byte for byte");
            if (noted is null) Assert.That(stored.GetProperty("storageNote").ValueKind, Is.EqualTo(JsonValueKind.Null));
            else Assert.That(stored.GetProperty("storageNote").GetString(), Does.Contain(noted).And.Contain(header));
            Assert.That(ingestion.ToString(), Does.Not.Contain(messageId), "no store failure reported for it");
            Assert.That(await download.Content.ReadAsByteArrayAsync(), Is.EqualTo(body), "downloaded byte for byte");
            Assert.That(download.Content.Headers.ContentDisposition?.DispositionType, Is.EqualTo("attachment"), "a download, never rendered");
            Assert.That(stored.GetProperty("bodyBytes").GetInt32(), Is.EqualTo(body.Length));
            Assert.That(stored.GetProperty("body").ValueKind, Is.EqualTo(body.Length > 64 * 1024 ? JsonValueKind.Null : JsonValueKind.String),
                "a body past ServiceControl:MaxInlineBodyBytes (64 KB) is kept but not inlined");
        });
    }

    [Test]
    public async Task A_header_larger_than_the_brokers_frames_never_reaches_error_and_ServiceControl_carries_on()
    {
        var (tooBig, after) = (Guid.NewGuid().ToString(), Guid.NewGuid().ToString());
        var properties = FailedMessages.Failure(tooBig, "Conveyor.Messages.OrderPlaced", "Tests.Unstorable", "the failure carries a 1 MB header", SystemTopology.Payments.Queue, DateTimeOffset.UtcNow);
        properties.Headers!["x-note"] = Encoding.UTF8.GetBytes(new string('h', 1024 * 1024));

        // RabbitMQ's frames are 128 KB (frame_max) and a message's headers travel in one: the broker, or the client
        // before it, refuses the message at publish, so it is never in error for ServiceControl to choke on.
        var refused = Assert.CatchAsync(async () =>
        {
            await using var payments = await Broker.ConnectAsAsync(SystemTopology.Payments);
            await payments.PublishAsync(ConveyorEndpoint.ErrorQueue, properties, "{}"u8.ToArray());
        });
        await FailedMessages.PublishAsync(after, "Conveyor.Messages.OrderPlaced", "Tests.Unstorable", "a failure after the refused one", DateTimeOffset.UtcNow);
        await _serviceControl.WaitForAsync(m => m.GetProperty("messageId").GetString() == after, "the next failure stored");
        var stored = await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select count(*) from failed_messages where message_id = @id", ("id", tooBig));

        Assert.Multiple(() =>
        {
            Assert.That(refused, Is.Not.Null, "the publish of a 1 MB header fails");
            TestContext.Out.WriteLine($"refused with {refused?.GetType().Name}: {refused?.Message}");
            Assert.That(stored, Is.Zero, "nothing of it reached ServiceControl");
        });
    }

    [Test]
    public async Task With_a_retention_for_unresolved_failures_an_old_one_is_deleted_and_a_new_one_shows_when_it_will_be()
    {
        var (oldId, newId) = (Guid.NewGuid().ToString(), Guid.NewGuid().ToString());
        var lastFailure = DateTimeOffset.UtcNow;
        await FailedMessages.PublishAsync(oldId, "Tests.Old", "Tests.Boom", "failed two days ago", lastFailure.AddDays(-2));
        await FailedMessages.PublishAsync(newId, "Tests.New", "Tests.Boom", "failed just now", lastFailure);

        var kept = await _serviceControl.WaitForAsync(m => m.GetProperty("messageId").GetString() == newId, "the new failure stored");
        // The old one was stored too (error is empty, and nothing is dropped at ingestion), then deleted: the job says so.
        await using var operatorBroker = await Broker.ConnectAsync();
        await TestEnvironment.Eventually(() => operatorBroker.CountAsync(ConveyorEndpoint.ErrorQueue), n => n == 0, "error empty again");
        var said = await TestEnvironment.Eventually(() => Task.FromResult(System.OutputOf(SystemTopology.ServiceControl.Name)),
            lines => lines.Any(l => l.Contains("UnresolvedRetentionPeriod", StringComparison.Ordinal)), "the retention job to delete the old unresolved failure");
        var oldRows = await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select count(*) from failed_messages where message_id = @id", ("id", oldId));

        Assert.Multiple(() =>
        {
            Assert.That(oldRows, Is.Zero, "a failure older than the retention is gone");
            Assert.That(said.Count(l => l.Contains("UnresolvedRetentionPeriod", StringComparison.Ordinal)), Is.GreaterThanOrEqualTo(1));
            Assert.That(kept.GetProperty("deletedAfter").GetDateTimeOffset(), Is.EqualTo(lastFailure.AddDays(1)).Within(TimeSpan.FromSeconds(1)), "a newer one says when it goes");
        });
    }

    [Test]
    public async Task A_retry_the_endpoint_never_confirms_goes_back_to_the_list_with_the_reason()
    {
        var (_, messageId) = await FailedMessages.SendInvalidOrderPlacedAsync();
        var failed = await _serviceControl.WaitForAsync(FailedMessages.FailedInPayments(messageId), "the failure stored");
        var id = ServiceControlClient.IdOf(failed);
        await System.StopAsync(SystemTopology.Payments.Name);
        try
        {
            var retry = await _serviceControl.PostAsync($"/api/failed-messages/{id}/retry");
            var back = await _serviceControl.WaitForStatusAsync(id, "Unresolved", d => d.GetProperty("statusNote").ValueKind == JsonValueKind.String);

            Assert.Multiple(() =>
            {
                Assert.That(retry.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
                Assert.That(back.GetProperty("statusNote").GetString(), Does.Contain("not confirmed"));
                Assert.That(back.GetProperty("summary").GetProperty("retryCount").GetInt32(), Is.EqualTo(1));
            });
        }
        finally
        {
            await System.StartAgainAsync(SystemTopology.Payments.Name);
        }
    }

    [Test]
    public async Task An_instance_silent_for_longer_than_configured_is_forgotten_with_its_throughput()
    {
        static bool Lists(JsonElement endpoints, string endpoint) => endpoints.EnumerateArray().Any(i => i.GetProperty("endpoint").GetString() == endpoint);

        await TestEnvironment.Eventually(() => _serviceControl.Http.GetFromJsonAsync<JsonElement>("/api/endpoints"), e => Lists(e, SystemTopology.Notifications.Name), "Notifications reporting");
        await System.StopAsync(SystemTopology.Notifications.Name);
        try
        {
            var endpoints = await TestEnvironment.Eventually(() => _serviceControl.Http.GetFromJsonAsync<JsonElement>("/api/endpoints"), e => !Lists(e, SystemTopology.Notifications.Name),
                "the stopped instance forgotten", TimeSpan.FromSeconds(60));
            var monitoring = await _serviceControl.Http.GetFromJsonAsync<JsonElement>("/api/monitoring");

            Assert.Multiple(() =>
            {
                Assert.That(Lists(endpoints, SystemTopology.Orders.Name), "the running ones stay");
                Assert.That(monitoring.GetProperty("endpoints").EnumerateArray().Select(e => e.GetProperty("endpoint").GetString()), Has.None.EqualTo(SystemTopology.Notifications.Name), "nor is its throughput kept");
            });
        }
        finally
        {
            await System.StartAgainAsync(SystemTopology.Notifications.Name);
        }
    }

    [TestCase("page=2147483647&pageSize=500")]
    [TestCase("page=0")]
    [TestCase("pageSize=100000")]
    [TestCase("pageSize=0")]
    public async Task A_page_or_page_size_past_its_bound_is_a_400_problem(string query)
    {
        var response = await _serviceControl.Http.GetAsync($"/api/failed-messages?{query}");

        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        });
    }
}
