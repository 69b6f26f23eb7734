using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Integration.Tests.Infrastructure;

namespace Integration.Tests.System;

/// <summary>A fixture that runs the three endpoint executables against the real broker, databases and SMTP server.</summary>
[NonParallelizable]
public abstract class SystemFixture
{
    protected RunningSystem System = null!;
    protected HttpClient Api = null!;

    [OneTimeSetUp]
    public async Task StartTheSystem()
    {
        TestEnvironment.RequireBrokerAndDatabase();
        TestEnvironment.RequireTcp("The SMTP catcher", "127.0.0.1", TestEnvironment.SmtpPort);
        RequireMore();
        await BeforeTheSystemStartsAsync();
        System = await RunningSystem.StartAsync(Settings, EndpointSettings);
        // Orders are placed and read as alice, a customer of the realm (her token's subject is the customer id).
        Api = Tokens.ClientAs("alice", RunningSystem.OrdersApi);
    }

    /// <summary>Settings of this fixture's system beyond the test timings (environment variable names).</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>();

    /// <summary>Settings of one endpoint of this fixture's system (by endpoint name), read once the system starts.</summary>
    protected virtual IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> EndpointSettings =>
        new Dictionary<string, IReadOnlyDictionary<string, string>>();

    /// <summary>What a fixture starts before the system (a telemetry receiver the processes export to).</summary>
    protected virtual Task BeforeTheSystemStartsAsync() => Task.CompletedTask;

    /// <summary>Further preconditions of a fixture, checked before anything starts (skip with Assert.Ignore).</summary>
    protected virtual void RequireMore()
    {
    }

    [OneTimeTearDown]
    public async Task StopTheSystem()
    {
        Api?.Dispose();
        if (System is not null) await System.DisposeAsync();
    }

    protected sealed record Placed(Guid Id, Uri Location);

    /// <summary>Places a two-line order (62.40 EUR) paid with <paramref name="token"/>; its mail goes to the customer's verified address.</summary>
    protected async Task<Placed> PlaceOrder(string token)
    {
        var response = await OrderRequests.PostAsync(Api, OrderRequests.TwoLines(token));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        return new Placed(id, response.Headers.Location!);
    }

    protected async Task<JsonElement> GetOrder(Uri location) => JsonDocument.Parse(await Api.GetStringAsync(location)).RootElement;

    /// <summary>"Confirmed", or "Cancelled(PaymentTimedOut)" for a cancelled order.</summary>
    protected static string StateOf(JsonElement order) =>
        order.GetProperty("cancellationReason").ValueKind == JsonValueKind.String
            ? $"{order.GetProperty("status").GetString()}({order.GetProperty("cancellationReason").GetString()})"
            : order.GetProperty("status").GetString()!;

    protected Task<JsonElement> WaitForState(Placed order, string expected, TimeSpan? timeout = null) =>
        TestEnvironment.Eventually(() => GetOrder(order.Location), o => StateOf(o) == expected, $"order {order.Id} to be {expected}", timeout);
}
