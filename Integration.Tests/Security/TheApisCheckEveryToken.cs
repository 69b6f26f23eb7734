using Conveyor.Topology;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;

namespace Integration.Tests.Security;

/// <summary>
/// The real Orders, Payments and ServiceControl processes against tokens of every kind. This fixture's provider
/// issues roles in Keycloak's shape (<c>realm_access.roles</c>), so every acceptance here also proves the realm
/// export and the role mapping agree.
/// </summary>
public class TheApisCheckEveryToken : SystemFixture
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Realm__RoleClaimShape"] = "keycloak",
        // Prometheus scrapes from a network these tests are not on (TEST-NET-1), so /metrics wants a token here.
        ["Conveyor__Telemetry__ScrapeNetworks__0"] = "192.0.2.0/24",
    };

    /// <summary>Payments as deployed: /metrics and /health/details on a management port of their own.</summary>
    private static readonly Uri PaymentsManagement = new($"http://127.0.0.1:{SystemTopology.Payments.TestPort + 50}");

    protected override IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> EndpointSettings =>
        new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            [SystemTopology.Payments.Name] = new Dictionary<string, string> { ["Conveyor__Management__Port"] = PaymentsManagement.Port.ToString() },
        };

    private static async Task<HttpResponseMessage> SendAsync(Uri api, HttpMethod method, string path, string? token, object? body = null)
    {
        using var http = new HttpClient { BaseAddress = api };
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null) request.Content = JsonContent.Create(body);
        if (method == HttpMethod.Post && path == "/orders") request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        return await http.SendAsync(request);
    }

    private static object AnOrder() => new
    {
        currency = "EUR", paymentToken = "tok_ok",
        lines = new[] { new { sku = "BOOK-DDD", quantity = 1 } },
    };

    [Test]
    public async Task Each_token_gets_the_answer_its_roles_and_ownership_allow()
    {
        var alice = await Tokens.ForAsync("alice");
        var bob = await Tokens.ForAsync("bob");
        var sam = await Tokens.ForAsync("sam");
        var olivia = await Tokens.ForAsync("olivia");
        string foreign;
        await using (var otherProvider = await LocalIdentityProvider.StartAsync(15073, "keycloak"))
        {
            foreign = await Tokens.ForAsync("alice", otherProvider.Authority);
        }

        // An ops token that lives 3 s: accepted first, then (once its expiry and the 1 s clock skew the test
        // system allows have passed) refused. And an ops token without the API audience.
        var shortLived = await Tokens.ForClientAsync(TestRealm.ShortLivedClient, TestRealm.Secret);
        var acceptedBeforeExpiry = await SendAsync(RunningSystem.PaymentsApi, HttpMethod.Get, "/admin/provider-outage", shortLived);
        var otherAudience = await Tokens.ForClientAsync(TestRealm.OtherAudienceClient, TestRealm.Secret);

        var parts = alice.Split('.');
        var tampered = $"{parts[0]}.{parts[1]}.{(parts[2][0] == 'A' ? 'B' : 'A')}{parts[2][1..]}";
        var placed = await SendAsync(RunningSystem.OrdersApi, HttpMethod.Post, "/orders", alice, AnOrder());
        var order = (await placed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        var cases = new (string What, Uri Api, HttpMethod Method, string Path, string? Token, object? Body, HttpStatusCode Expected)[]
        {
            ("no token", RunningSystem.OrdersApi, HttpMethod.Post, "/orders", null, AnOrder(), HttpStatusCode.Unauthorized),
            ("garbage", RunningSystem.OrdersApi, HttpMethod.Post, "/orders", "not.a.token", AnOrder(), HttpStatusCode.Unauthorized),
            ("tampered signature", RunningSystem.OrdersApi, HttpMethod.Post, "/orders", tampered, AnOrder(), HttpStatusCode.Unauthorized),
            ("another issuer and key", RunningSystem.OrdersApi, HttpMethod.Post, "/orders", foreign, AnOrder(), HttpStatusCode.Unauthorized),
            ("valid, without the customer role", RunningSystem.OrdersApi, HttpMethod.Post, "/orders", olivia, AnOrder(), HttpStatusCode.Forbidden),
            ("customer reads own order", RunningSystem.OrdersApi, HttpMethod.Get, $"/orders/{order}", alice, null, HttpStatusCode.OK),
            ("customer reads another's order", RunningSystem.OrdersApi, HttpMethod.Get, $"/orders/{order}", bob, null, HttpStatusCode.NotFound),
            ("customer cancels another's order", RunningSystem.OrdersApi, HttpMethod.Post, $"/orders/{order}/cancel", bob, null, HttpStatusCode.NotFound),
            ("support reads any order", RunningSystem.OrdersApi, HttpMethod.Get, $"/orders/{order}", sam, null, HttpStatusCode.OK),
            ("support cannot cancel", RunningSystem.OrdersApi, HttpMethod.Post, $"/orders/{order}/cancel", sam, null, HttpStatusCode.Forbidden),
            ("ops reads any order", RunningSystem.OrdersApi, HttpMethod.Get, $"/orders/{order}", olivia, null, HttpStatusCode.OK),
            ("customer on the outage switch", RunningSystem.PaymentsApi, HttpMethod.Get, "/admin/provider-outage", alice, null, HttpStatusCode.Forbidden),
            ("no token on the outage switch", RunningSystem.PaymentsApi, HttpMethod.Get, "/admin/provider-outage", null, null, HttpStatusCode.Unauthorized),
            ("ops on the outage switch", RunningSystem.PaymentsApi, HttpMethod.Get, "/admin/provider-outage", olivia, null, HttpStatusCode.OK),
            ("health needs no token", RunningSystem.OrdersApi, HttpMethod.Get, "/health/ready", null, null, HttpStatusCode.OK),
            ("expired", RunningSystem.PaymentsApi, HttpMethod.Get, "/admin/provider-outage", shortLived, null, HttpStatusCode.Unauthorized),
            ("wrong audience", RunningSystem.PaymentsApi, HttpMethod.Get, "/admin/provider-outage", otherAudience, null, HttpStatusCode.Unauthorized),
            ("no token on ServiceControl", RunningSystem.ServiceControlApi, HttpMethod.Get, "/api/failed-messages", null, null, HttpStatusCode.Unauthorized),
            ("customer reads ServiceControl", RunningSystem.ServiceControlApi, HttpMethod.Get, "/api/failed-messages", alice, null, HttpStatusCode.Forbidden),
            ("support reads failed messages", RunningSystem.ServiceControlApi, HttpMethod.Get, "/api/failed-messages", sam, null, HttpStatusCode.OK),
            ("support reads the audit log", RunningSystem.ServiceControlApi, HttpMethod.Get, "/api/audit", sam, null, HttpStatusCode.OK),
            ("support cannot retry", RunningSystem.ServiceControlApi, HttpMethod.Post, "/api/failed-messages/retry-all", sam, null, HttpStatusCode.Forbidden),
            ("support cannot set a redirect", RunningSystem.ServiceControlApi, HttpMethod.Put, $"/api/retry-redirects/{SystemTopology.Payments.Queue}", sam, new { toQueue = "elsewhere" }, HttpStatusCode.Forbidden),
            ("ops retries", RunningSystem.ServiceControlApi, HttpMethod.Post, "/api/failed-messages/retry-all", olivia, null, HttpStatusCode.Accepted),
            ("ops reads endpoints", RunningSystem.ServiceControlApi, HttpMethod.Get, "/api/endpoints", olivia, null, HttpStatusCode.OK),
            ("metrics from outside the scrape network", RunningSystem.OrdersApi, HttpMethod.Get, "/metrics", null, null, HttpStatusCode.Unauthorized),
            ("customer on metrics", RunningSystem.OrdersApi, HttpMethod.Get, "/metrics", alice, null, HttpStatusCode.Forbidden),
            ("ops scrapes metrics on the management port", PaymentsManagement, HttpMethod.Get, "/metrics", olivia, null, HttpStatusCode.OK),
            ("ops reads health details on the management port", PaymentsManagement, HttpMethod.Get, "/health/details", olivia, null, HttpStatusCode.OK),
            ("the management port answers readiness", PaymentsManagement, HttpMethod.Get, "/health/ready", null, null, HttpStatusCode.OK),
            ("no metrics on the public port beside a management port", RunningSystem.PaymentsApi, HttpMethod.Get, "/metrics", olivia, null, HttpStatusCode.NotFound),
            ("no health details on the public port beside a management port", RunningSystem.PaymentsApi, HttpMethod.Get, "/health/details", olivia, null, HttpStatusCode.NotFound),
            ("no API on the management port", PaymentsManagement, HttpMethod.Get, "/admin/provider-outage", olivia, null, HttpStatusCode.NotFound),
            ("health details from outside the scrape network", RunningSystem.OrdersApi, HttpMethod.Get, "/health/details", null, null, HttpStatusCode.Unauthorized),
            ("ServiceControl's metrics want a token, not a sign-in", RunningSystem.ServiceControlApi, HttpMethod.Get, "/metrics", null, null, HttpStatusCode.Unauthorized),
        };

        var expiredAt = Tokens.ExpiryOf(shortLived) + TimeSpan.FromSeconds(1);
        if (DateTimeOffset.UtcNow <= expiredAt) await Task.Delay(expiredAt - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(500));

        var results = new List<(string What, HttpStatusCode Expected, HttpStatusCode Actual, string? MediaType, string Challenge)>();
        foreach (var c in cases)
        {
            var response = await SendAsync(c.Api, c.Method, c.Path, c.Token, c.Body);
            results.Add((c.What, c.Expected, response.StatusCode, response.Content.Headers.ContentType?.MediaType, response.Headers.WwwAuthenticate.ToString()));
        }

        // Anonymous readiness is the verdict alone: no check names, host names or exception text.
        using var publicReadiness = new HttpClient { BaseAddress = RunningSystem.OrdersApi };
        var readiness = await publicReadiness.GetFromJsonAsync<JsonElement>("/health/ready");

        Assert.Multiple(() =>
        {
            Assert.That(readiness.EnumerateObject().Select(p => p.Name), Is.EqualTo(new[] { "status" }), "public readiness");
            Assert.That(placed.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), "a customer token in Keycloak's claim shape places an order");
            Assert.That(acceptedBeforeExpiry.StatusCode, Is.EqualTo(HttpStatusCode.OK), "the short-lived token works before it expires");
            foreach (var (what, expected, actual, mediaType, _) in results)
            {
                Assert.That(actual, Is.EqualTo(expected), what);
                if ((int)actual >= 400) Assert.That(mediaType, Is.EqualTo("application/problem+json"), what);
            }

            // The bearer handler says why: the refusals are for the reason the row names.
            Assert.That(results.Single(r => r.What == "expired").Challenge, Does.Contain("expired"), "expired");
            Assert.That(results.Single(r => r.What == "wrong audience").Challenge, Does.Contain("audience"), "wrong audience");
        });
    }
}
