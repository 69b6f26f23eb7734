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

        Assert.Multiple(async () =>
        {
            Assert.That(ServiceControlClient.FailureCountOf(stored), Is.EqualTo(1), "stored once");
            Assert.That(queued, Is.Zero, "nothing left in error or sent back to it");
            Assert.That(await SystemDatabases.StoredBodyOf(messageId), Is.EqualTo(body), "the body byte for byte");
            if (noted is null) Assert.That(stored.GetProperty("storageNote").ValueKind, Is.EqualTo(JsonValueKind.Null));
            else Assert.That(stored.GetProperty("storageNote").GetString(), Does.Contain(noted).And.Contain(header));
            Assert.That(ingestion.ToString(), Does.Not.Contain(messageId), "no store failure reported for it");
        });
    }

    [Test]
    public async Task A_retry_the_endpoint_never_confirms_goes_back_to_the_list_with_the_reason()
    {
        var (_, messageId) = await FailedMessages.SendInvalidOrderPlacedAsync();
        var failed = await _serviceControl.WaitForAsync(m => m.GetProperty("messageId").GetString() == messageId, "the failure stored");
        var id = ServiceControlClient.IdOf(failed);
        await System.StopAsync("payments");
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
            await System.StartAgainAsync("payments");
        }
    }

    [Test]
    public async Task An_instance_silent_for_longer_than_configured_is_forgotten_with_its_throughput()
    {
        static bool Lists(JsonElement endpoints, string endpoint) => endpoints.EnumerateArray().Any(i => i.GetProperty("endpoint").GetString() == endpoint);

        await TestEnvironment.Eventually(() => _serviceControl.Http.GetFromJsonAsync<JsonElement>("/api/endpoints"), e => Lists(e, "notifications"), "Notifications reporting");
        await System.StopAsync("notifications");
        try
        {
            var endpoints = await TestEnvironment.Eventually(() => _serviceControl.Http.GetFromJsonAsync<JsonElement>("/api/endpoints"), e => !Lists(e, "notifications"),
                "the stopped instance forgotten", TimeSpan.FromSeconds(60));
            var monitoring = await _serviceControl.Http.GetFromJsonAsync<JsonElement>("/api/monitoring");

            Assert.Multiple(() =>
            {
                Assert.That(Lists(endpoints, "orders"), "the running ones stay");
                Assert.That(monitoring.GetProperty("endpoints").EnumerateArray().Select(e => e.GetProperty("endpoint").GetString()), Has.None.EqualTo("notifications"), "nor is its throughput kept");
            });
        }
        finally
        {
            await System.StartAgainAsync("notifications");
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
