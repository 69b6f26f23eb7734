using System.Text.Json;
using System.Net.Http.Json;
using Conveyor.Topology;
using System.Net;
using System.Text;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;

namespace Integration.Tests.Edge;

/// <summary>
/// The HTTP edge of the real Orders process: hostile or malformed requests get a 4xx problem and write
/// nothing, bodies over the limit are refused, every response carries the security headers, and a client
/// over its rate is told when to come back.
/// </summary>
public class TheEdgeRefusesWhatItShould : SystemFixture
{
    private const int RequestsPerWindow = 150;
    private static readonly TimeSpan RateWindow = TimeSpan.FromMinutes(1);

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Conveyor__Edge__RequestsPerWindow"] = RequestsPerWindow.ToString(),
        ["Conveyor__Edge__RateWindow"] = RateWindow.ToString("c"),
        ["Conveyor__Edge__MaxRequestBodyBytes"] = "16384",
        // A proxy at 127.0.0.2; every other address, 127.0.0.1 too, is a client whose forwarded headers count for nothing.
        ["Conveyor__Edge__TrustedProxies__0"] = TrustedProxy,
        // A confirmed order can no longer be cancelled (14 days by default): the sweep's 409.
        ["Orders__CancellationWindow"] = "00:00:00.001",
    };

    private const string TrustedProxy = "127.0.0.2";
    private const string UntrustedClient = "127.0.0.3";

    private const string Valid = """
        {"customerId": "6c2f1b0e-0d5a-4d8e-9b51-2a1f7c9e0a11", "customerEmail": "alice@example.com", "currency": "EUR", "paymentToken": "tok_ok",
         "lines": [{"sku": "BOOK-DDD", "quantity": 1}]}
        """;

    private static string With(string field, string json) => Valid.Replace(Field(field), json);

    private static string WithPrice(string price) => With("quantity", $"\"quantity\": 1, \"unitPrice\": {price}");

    private static HttpRequestMessage Post(HttpContent content, string? idempotencyKey = "new")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = content };
        if (idempotencyKey is not null) request.Headers.Add("Idempotency-Key", idempotencyKey == "new" ? Guid.NewGuid().ToString() : idempotencyKey);
        return request;
    }

    private static string Field(string field) => field switch
    {
        "customerId" => "\"customerId\": \"6c2f1b0e-0d5a-4d8e-9b51-2a1f7c9e0a11\"", // alice's subject: the body may repeat it
        "customerEmail" => "\"customerEmail\": \"alice@example.com\"", // alice's verified address: the body may repeat it
        "currency" => "\"currency\": \"EUR\"",
        "paymentToken" => "\"paymentToken\": \"tok_ok\"",
        "lines" => "\"lines\": [{\"sku\": \"BOOK-DDD\", \"quantity\": 1}]",
        "sku" => "\"sku\": \"BOOK-DDD\"",
        "quantity" => "\"quantity\": 1",
        _ => throw new ArgumentOutOfRangeException(nameof(field)),
    };

    /// <summary>Bodies for POST /orders that must all be refused.</summary>
    private static IEnumerable<(string What, string Body)> HostileOrders()
    {
        yield return ("empty body", "");
        yield return ("truncated JSON", "{\"customerId\": ");
        yield return ("array", "[]");
        yield return ("null", "null");
        yield return ("string", "\"order\"");
        yield return ("number", "42");
        yield return ("trailing garbage", Valid + "}}");
        yield return ("comments", "/* hi */" + Valid);
        yield return ("single quotes", Valid.Replace('"', '\''));
        yield return ("NaN price", WithPrice("NaN"));
        yield return ("empty object", "{}");
        yield return ("customer id a number", With("customerId", "\"customerId\": 42"));
        yield return ("customer id an object", With("customerId", "\"customerId\": {\"$ne\": null}"));
        yield return ("customer id empty", With("customerId", "\"customerId\": \"\""));
        yield return ("customer id too long", With("customerId", $"\"customerId\": \"{new string('c', 101)}\""));
        yield return ("customer id SQL", With("customerId", "\"customerId\": \"x'; DROP TABLE orders; --\""));
        yield return ("customer id script", With("customerId", "\"customerId\": \"<script>alert(1)</script>\""));
        yield return ("customer id NUL", With("customerId", "\"customerId\": \"abc\\u0000def\""));
        yield return ("customer id right-to-left override", With("customerId", "\"customerId\": \"abc\\u202Edef\""));
        yield return ("customer id zero-width space", With("customerId", "\"customerId\": \"ab\\u200Bc\""));
        yield return ("customer id lone surrogate", With("customerId", "\"customerId\": \"ab\\uD800c\""));
        yield return ("e-mail another customer's", With("customerEmail", "\"customerEmail\": \"bob@example.com\""));
        yield return ("e-mail not an address", With("customerEmail", "\"customerEmail\": \"not-an-email\""));
        yield return ("e-mail script", With("customerEmail", "\"customerEmail\": \"<script>@example.com\""));
        yield return ("e-mail header injection", With("customerEmail", "\"customerEmail\": \"a@example.com\\r\\nBcc: all@example.com\""));
        yield return ("e-mail homoglyph domain", With("customerEmail", "\"customerEmail\": \"a@ex\\u0430mple.com\""));
        yield return ("e-mail too long", With("customerEmail", $"\"customerEmail\": \"{new string('a', 250)}@example.com\""));
        yield return ("currency unknown", With("currency", "\"currency\": \"ZZZ\""));
        yield return ("currency a number", With("currency", "\"currency\": 978"));
        yield return ("currency too long", With("currency", "\"currency\": \"EURO\""));
        yield return ("currency SQL", With("currency", "\"currency\": \"' OR 1=1 --\""));
        yield return ("payment token missing", With("paymentToken", "\"paymentToken\": \"\""));
        yield return ("payment token script", With("paymentToken", "\"paymentToken\": \"tok_<img src=x onerror=alert(1)>\""));
        yield return ("lines missing", With("lines", "\"lines\": null"));
        yield return ("lines empty", With("lines", "\"lines\": []"));
        yield return ("lines an object", With("lines", "\"lines\": {\"sku\": \"A\"}"));
        yield return ("lines a string", With("lines", "\"lines\": \"BOOK-DDD x1\""));
        yield return ("a null line", With("lines", "\"lines\": [null]"));
        yield return ("too many lines", With("lines", "\"lines\": [" + string.Join(",", Enumerable.Repeat("{\"sku\": \"BOOK-DDD\", \"quantity\": 1}", 101)) + "]"));
        yield return ("sku empty", With("sku", "\"sku\": \"\""));
        yield return ("sku SQL", With("sku", "\"sku\": \"A'); DELETE FROM orders; --\""));
        yield return ("sku path traversal", With("sku", "\"sku\": \"../../etc/passwd\""));
        yield return ("sku too long", With("sku", $"\"sku\": \"{new string('S', 65)}\""));
        yield return ("quantity zero", With("quantity", "\"quantity\": 0"));
        yield return ("quantity negative", With("quantity", "\"quantity\": -1"));
        yield return ("quantity fractional", With("quantity", "\"quantity\": 1.5"));
        yield return ("quantity a string", With("quantity", "\"quantity\": \"1\""));
        yield return ("quantity over int", With("quantity", "\"quantity\": 99999999999999999999"));
        yield return ("quantity over the maximum", With("quantity", "\"quantity\": 10001"));
        // Prices come from the catalog: any price a client sends is refused, however it is written.
        yield return ("price zero", WithPrice("0"));
        yield return ("price the catalog's", WithPrice("42.50"));
        yield return ("price negative", WithPrice("-0.01"));
        yield return ("price over decimal", WithPrice("1e400"));
        yield return ("price at decimal's maximum, quantity 10000", With("quantity", "\"quantity\": 10000, \"unitPrice\": 79228162514264337593543950335"));
        yield return ("price a string", WithPrice("\"cheap\""));
        yield return ("price boolean", WithPrice("true"));
        yield return ("sku unknown", With("sku", "\"sku\": \"NO-SUCH-THING\""));
        yield return ("sku retired", With("sku", "\"sku\": \"POSTER-2025\""));
        yield return ("currency not the catalog's", With("currency", "\"currency\": \"USD\""));
        yield return ("deeply nested", new string('[', 5000) + new string(']', 5000));
    }

    [Test, Order(1)]
    public async Task Every_hostile_or_malformed_request_is_a_4xx_problem_and_writes_no_order()
    {
        var ordersBefore = await Sql.ScalarAsync<long>(RunningSystem.OrdersDatabase, "select count(*) from orders");
        var auditBefore = await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select count(*) from audit_log");
        var results = new List<(string What, HttpStatusCode Expected, HttpStatusCode Status, string? MediaType)>();

        foreach (var (what, body) in HostileOrders())
        {
            // Each with a key of its own, so it is refused for what is wrong with it, not for a missing key.
            var response = await Api.SendAsync(Post(new StringContent(body, Encoding.UTF8, "application/json")));
            results.Add((what, HttpStatusCode.BadRequest, response.StatusCode, response.Content.Headers.ContentType?.MediaType));
        }

        async Task Send(string what, HttpStatusCode expected, HttpRequestMessage request, HttpClient? client = null)
        {
            var response = await (client ?? Api).SendAsync(request);
            results.Add((what, expected, response.StatusCode, response.Content.Headers.ContentType?.MediaType));
        }

        await Send("no content type", HttpStatusCode.UnsupportedMediaType, Post(new ByteArrayContent(Encoding.UTF8.GetBytes(Valid))));
        await Send("form instead of JSON", HttpStatusCode.UnsupportedMediaType, Post(new FormUrlEncodedContent([new("customerId", "x")])));
        await Send("XML", HttpStatusCode.UnsupportedMediaType, Post(new StringContent("<order/>", Encoding.UTF8, "application/xml")));
        await Send("body over the limit", HttpStatusCode.RequestEntityTooLarge, Post(new StringContent(With("customerId", $"\"customerId\": \"{new string('c', 20_000)}\""), Encoding.UTF8, "application/json")));
        await Send("no idempotency key", HttpStatusCode.BadRequest, Post(new StringContent(Valid, Encoding.UTF8, "application/json"), idempotencyKey: null));
        await Send("empty idempotency key", HttpStatusCode.BadRequest, Post(new StringContent(Valid, Encoding.UTF8, "application/json"), idempotencyKey: ""));
        await Send("huge idempotency key", HttpStatusCode.BadRequest, Post(new StringContent(Valid, Encoding.UTF8, "application/json"), idempotencyKey: new string('k', 201)));
        await Send("order id not a GUID", HttpStatusCode.NotFound, new HttpRequestMessage(HttpMethod.Get, "/orders/1%20OR%201=1"));
        await Send("order id script", HttpStatusCode.NotFound, new HttpRequestMessage(HttpMethod.Get, "/orders/%3Cscript%3E"));
        await Send("cancel an unknown order", HttpStatusCode.NotFound, new HttpRequestMessage(HttpMethod.Post, $"/orders/{Guid.NewGuid()}/cancel"));
        await Send("wrong method", HttpStatusCode.MethodNotAllowed, new HttpRequestMessage(HttpMethod.Delete, "/orders"));
        await Send("unknown path", HttpStatusCode.NotFound, new HttpRequestMessage(HttpMethod.Get, "/orders/../../etc/passwd"));
        using (var anonymous = new HttpClient { BaseAddress = RunningSystem.OrdersApi })
        {
            await Send("no token", HttpStatusCode.Unauthorized, Post(new StringContent(Valid, Encoding.UTF8, "application/json")), anonymous);
        }

        using (var operatorClient = Tokens.ClientAs("olivia", RunningSystem.OrdersApi))
        {
            await Send("a token without the customer role", HttpStatusCode.Forbidden, Post(new StringContent(Valid, Encoding.UTF8, "application/json")), operatorClient);
        }

        // The one request that places an order (counted below), then its key reused for another body.
        var key = Guid.NewGuid().ToString();
        var placed = await Api.SendAsync(Post(new StringContent(Valid, Encoding.UTF8, "application/json"), key));
        Assert.That(placed.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await placed.Content.ReadAsStringAsync());
        await Send("an idempotency key reused for another body", HttpStatusCode.UnprocessableEntity,
            Post(new StringContent(With("quantity", "\"quantity\": 2"), Encoding.UTF8, "application/json"), key));
        await TestEnvironment.Eventually(async () => (await Api.GetFromJsonAsync<JsonElement>(placed.Headers.Location)).GetProperty("status").GetString(), s => s == "Confirmed", "the placed order confirmed");
        await Send("cancel a confirmed order past its window", HttpStatusCode.Conflict, new HttpRequestMessage(HttpMethod.Post, $"{placed.Headers.Location}/cancel"));

        // ServiceControl's API, as an operator's script would call it, and as a customer would try.
        using (var ops = Tokens.ClientAs("olivia", RunningSystem.ServiceControlApi))
        using (var customer = Tokens.ClientAs("alice", RunningSystem.ServiceControlApi))
        {
            static HttpRequestMessage Json(HttpMethod method, string path, string json, string mediaType = "application/json") =>
                new(method, path) { Content = new StringContent(json, Encoding.UTF8, mediaType) };
            await Send("ServiceControl: malformed JSON", HttpStatusCode.BadRequest, Json(HttpMethod.Post, "/api/failed-messages/retry", "{\"ids\": ["), ops);
            await Send("ServiceControl: ids not GUIDs", HttpStatusCode.BadRequest, Json(HttpMethod.Post, "/api/failed-messages/retry", "{\"ids\": [\"'; drop table failed_messages; --\"]}"), ops);
            await Send("ServiceControl: XML", HttpStatusCode.UnsupportedMediaType, Json(HttpMethod.Post, "/api/failed-messages/retry", "<ids/>", "application/xml"), ops);
            await Send("ServiceControl: an edited body over the limit", HttpStatusCode.RequestEntityTooLarge,
                Json(HttpMethod.Post, $"/api/failed-messages/{Guid.NewGuid()}/edit-and-retry", $"{{\"body\": \"{new string('b', 20_000)}\"}}"), ops);
            await Send("ServiceControl: an unknown message", HttpStatusCode.NotFound, new HttpRequestMessage(HttpMethod.Get, $"/api/failed-messages/{Guid.NewGuid()}"), ops);
            await Send("ServiceControl: a script as a group id", HttpStatusCode.NotFound, new HttpRequestMessage(HttpMethod.Post, "/api/failure-groups/%3Cscript%3E/retry"), ops);
            await Send("ServiceControl: a page past its bound", HttpStatusCode.BadRequest, new HttpRequestMessage(HttpMethod.Get, "/api/failure-groups?page=2147483647&pageSize=100000"), ops);
            await Send("ServiceControl: a customer's token", HttpStatusCode.Forbidden, new HttpRequestMessage(HttpMethod.Get, "/api/failed-messages"), customer);
        }

        var ordersAfter = await Sql.ScalarAsync<long>(RunningSystem.OrdersDatabase, "select count(*) from orders");
        var auditAfter = await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select count(*) from audit_log");
        Assert.Multiple(() =>
        {
            Assert.That(results, Has.Count.GreaterThanOrEqualTo(50));
            foreach (var (what, expected, status, mediaType) in results)
            {
                Assert.That(status, Is.EqualTo(expected), what);
                Assert.That(mediaType, Is.EqualTo("application/problem+json"), what);
            }

            Assert.That(ordersAfter, Is.EqualTo(ordersBefore + 1), "no order row was written but the one placed on purpose");
            Assert.That(auditAfter, Is.EqualTo(auditBefore), "and ServiceControl took no action");
        });
        TestContext.Progress.WriteLine($"{results.Count} hostile requests: " + string.Join(", ", results.GroupBy(r => (int)r.Status).Select(g => $"{g.Count()}×{g.Key}")));
    }

    [Test, Order(2)]
    public async Task A_NUL_in_the_path_is_refused_by_Kestrel_before_the_application_sees_it()
    {
        // Kestrel rejects a request target holding a NUL while it parses the request line (a proxy or a C library
        // behind it could read the path differently), before any middleware: its 400 has no body, and no hook
        // lets an application give it one. The status is what matters: nothing is routed, nothing written.
        var ordersBefore = await Sql.ScalarAsync<long>(RunningSystem.OrdersDatabase, "select count(*) from orders");
        var response = await Api.GetAsync("/orders/%00");
        var cancel = await Api.PostAsync("/orders/%00/cancel", null);

        Assert.Multiple(async () =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(cancel.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(await Sql.ScalarAsync<long>(RunningSystem.OrdersDatabase, "select count(*) from orders"), Is.EqualTo(ordersBefore));
        });
    }

    [Test, Order(2)]
    public async Task Every_response_carries_the_security_headers_and_no_cross_origin_permission()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"/orders/{Guid.NewGuid()}") { Headers = { { "Origin", "https://evil.example" } } };
        var response = await Api.SendAsync(request);

        Assert.Multiple(() =>
        {
            Assert.That(response.Headers.GetValues("X-Content-Type-Options"), Is.EqualTo(new[] { "nosniff" }));
            Assert.That(response.Headers.GetValues("X-Frame-Options"), Is.EqualTo(new[] { "DENY" }));
            Assert.That(response.Headers.GetValues("Referrer-Policy"), Is.EqualTo(new[] { "no-referrer" }));
            Assert.That(response.Headers.GetValues("Content-Security-Policy").Single(), Does.Contain("frame-ancestors 'none'"));
            Assert.That(response.Headers.Contains("Access-Control-Allow-Origin"), Is.False, "CORS is closed");
            Assert.That(response.Headers.Server, Is.Empty, "no Server header naming the software");
        });
    }

    /// <summary>
    /// The rate windows are aligned to the clock (every instance must agree on them): a test counting up to the limit
    /// starts with at least 15 s of its window left, so that its requests all fall into one window.
    /// </summary>
    private static async Task EarlyInARateWindowAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var next = DateTimeOffset.UnixEpoch + TimeSpan.FromTicks(((now - DateTimeOffset.UnixEpoch).Ticks / RateWindow.Ticks + 1) * RateWindow.Ticks);
        if (next - now < TimeSpan.FromSeconds(15)) await Task.Delay(next - now + TimeSpan.FromMilliseconds(200));
    }

    [Test, Order(3)]
    public async Task A_client_over_its_rate_gets_429_with_Retry_After_and_health_stays_answerable()
    {
        await EarlyInARateWindowAsync();
        HttpResponseMessage? limited = null;
        for (var i = 0; i <= RequestsPerWindow && limited is null; i++)
        {
            var response = await Api.GetAsync($"/orders/{Guid.NewGuid()}");
            if (response.StatusCode == HttpStatusCode.TooManyRequests) limited = response;
        }

        var health = await Api.GetAsync("/health/live");

        Assert.That(limited, Is.Not.Null, $"no 429 within {RequestsPerWindow + 1} requests");
        Assert.Multiple(() =>
        {
            Assert.That(limited!.Headers.RetryAfter?.Delta, Is.GreaterThan(TimeSpan.Zero));
            Assert.That(limited.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(health.StatusCode, Is.EqualTo(HttpStatusCode.OK), "probes are never limited");
        });
    }

    [Test, Order(4)]
    public async Task Forwarded_https_makes_Pulses_cookies_Secure_and_its_redirect_URI_https_only_from_a_trusted_proxy()
    {
        static HttpRequestMessage SignIn()
        {
            var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Add("X-Forwarded-Proto", "https");
            request.Headers.Add("X-Forwarded-For", "203.0.113.7");
            return request;
        }

        using var proxy = LoopbackClient.From(TrustedProxy, RunningSystem.ServiceControlApi);
        using var client = LoopbackClient.From(UntrustedClient, RunningSystem.ServiceControlApi);
        using var viaProxy = await proxy.SendAsync(SignIn());
        using var direct = await client.SendAsync(SignIn());

        static string RedirectUriOf(HttpResponseMessage challenge) =>
            Uri.UnescapeDataString(challenge.Headers.Location!.Query.Split('&').Single(p => p.TrimStart('?').StartsWith("redirect_uri=", StringComparison.Ordinal)).Split('=', 2)[1]);
        static IEnumerable<string> CookiesOf(HttpResponseMessage response) => response.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies : [];

        Assert.Multiple(() =>
        {
            Assert.That(viaProxy.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), "Pulse sends a signed-out browser to the provider");
            Assert.That(RedirectUriOf(viaProxy), Does.StartWith("https://"), "behind the trusted proxy the browser is on https");
            Assert.That(CookiesOf(viaProxy), Is.Not.Empty.And.All.Contain("secure"), "and every cookie is Secure");
            Assert.That(direct.StatusCode, Is.EqualTo(HttpStatusCode.Redirect));
            Assert.That(RedirectUriOf(direct), Does.StartWith("http://"), "the same headers from anyone else change nothing");
            Assert.That(CookiesOf(direct), Is.Not.Empty.And.None.Contain("secure"));
        });
    }

    [Test, Order(5)]
    public async Task A_flood_of_bad_tokens_is_limited_per_real_client()
    {
        static async Task<HttpResponseMessage?> FloodAsync(HttpClient http, string? forwardedFor)
        {
            for (var i = 0; i <= RequestsPerWindow; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/orders/{Guid.NewGuid()}");
                request.Headers.Add("Authorization", "Bearer not-a-token");
                if (forwardedFor is not null) request.Headers.Add("X-Forwarded-For", forwardedFor);
                var response = await http.SendAsync(request);
                if (response.StatusCode == HttpStatusCode.TooManyRequests) return response;
                response.Dispose();
            }

            return null;
        }

        async Task<HttpStatusCode> OnceAsync(HttpClient http, string forwardedFor)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/orders/{Guid.NewGuid()}");
            request.Headers.Add("Authorization", "Bearer not-a-token");
            request.Headers.Add("X-Forwarded-For", forwardedFor);
            using var response = await http.SendAsync(request);
            return response.StatusCode;
        }

        using var client = LoopbackClient.From(UntrustedClient, RunningSystem.OrdersApi);
        using var proxy = LoopbackClient.From(TrustedProxy, RunningSystem.OrdersApi);
        await EarlyInARateWindowAsync();

        var untrustedFlood = await FloodAsync(client, forwardedFor: null);
        var claimingToBeSomeoneElse = await OnceAsync(client, "198.51.100.1");
        var behindTheProxy = await FloodAsync(proxy, forwardedFor: "203.0.113.7");
        var anotherClientBehindIt = await OnceAsync(proxy, "203.0.113.8");

        Assert.Multiple(() =>
        {
            Assert.That(untrustedFlood?.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests), $"401s are limited too: no 429 within {RequestsPerWindow + 1} requests");
            Assert.That(untrustedFlood?.Headers.RetryAfter?.Delta, Is.GreaterThan(TimeSpan.Zero));
            Assert.That(claimingToBeSomeoneElse, Is.EqualTo(HttpStatusCode.TooManyRequests), "a forwarded address from an untrusted client changes nothing");
            Assert.That(behindTheProxy?.StatusCode, Is.EqualTo(HttpStatusCode.TooManyRequests), "the client behind the proxy is limited as itself");
            Assert.That(anotherClientBehindIt, Is.EqualTo(HttpStatusCode.Unauthorized), "and another client behind the same proxy is not");
        });
        untrustedFlood?.Dispose();
        behindTheProxy?.Dispose();
    }

    [Test, Order(6)]
    public async Task Two_instances_share_one_clients_rate_limit()
    {
        await System.StartInstanceAsync(SystemTopology.Orders.Name, 2);
        try
        {
            await EarlyInARateWindowAsync();
            // Bob, whom no other test of this fixture used, behind a load balancer that alternates between the two.
            using var first = Tokens.ClientAs("bob", RunningSystem.ApiOf(SystemTopology.Orders.Name, 1));
            using var second = Tokens.ClientAs("bob", RunningSystem.ApiOf(SystemTopology.Orders.Name, 2));
            var answered = new Dictionary<HttpClient, int> { [first] = 0, [second] = 0 };
            HttpResponseMessage? limited = null;
            var sent = 0;
            while (limited is null && sent < 2 * RequestsPerWindow)
            {
                var instance = sent++ % 2 == 0 ? first : second;
                var response = await instance.GetAsync($"/orders/{Guid.NewGuid()}");
                if (response.StatusCode == HttpStatusCode.TooManyRequests) limited = response;
                else answered[instance]++;
            }

            Assert.Multiple(() =>
            {
                Assert.That(limited, Is.Not.Null, $"no 429 within {2 * RequestsPerWindow} requests: each instance counted alone");
                Assert.That(sent, Is.EqualTo(RequestsPerWindow + 1), "the 429 comes at the limit of both instances together");
                Assert.That(answered.Values, Has.All.GreaterThan(RequestsPerWindow / 3), "both instances answered their share");
            });
        }
        finally
        {
            await System.StopAsync($"{SystemTopology.Orders.Name}-2");
        }
    }
}
