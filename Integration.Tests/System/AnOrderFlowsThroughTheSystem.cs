using Conveyor.Topology;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Integration.Tests.Infrastructure;

namespace Integration.Tests.System;

/// <summary>The three endpoint executables, a real broker, real databases and a real SMTP server: an order from HTTP to e-mail.</summary>
public class AnOrderFlowsThroughTheSystem : SystemFixture
{
    private static object Order(string token = "tok_ok") => OrderRequests.TwoLines(token);

    [Test]
    public void Every_endpoint_and_ServiceControl_is_a_separate_process() =>
        Assert.That(System.Processes.Select(p => p.Id).Distinct().Count(), Is.EqualTo(SystemTopology.Endpoints.Count));

    [Test]
    public async Task A_placed_order_is_confirmed_and_the_customer_gets_one_email()
    {
        var response = await OrderRequests.PostAsync(Api, Order());

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        var location = response.Headers.Location!;
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(location.ToString(), Is.EqualTo($"/orders/{body.GetProperty("id").GetGuid()}"));

        var order = await TestEnvironment.Eventually(() => GetOrder(location),
            o => o.GetProperty("status").GetString() == "Confirmed", "the order to be Confirmed");
        var mails = await TestEnvironment.Eventually(() => SmtpCatcher.MessagesAbout(body.GetProperty("id").GetGuid()), m => m.Count > 0, "the order's e-mail");

        Assert.Multiple(() =>
        {
            Assert.That(order.GetProperty("total").GetDecimal(), Is.EqualTo(62.40m));
            Assert.That(order.GetProperty("paymentId").ValueKind, Is.EqualTo(JsonValueKind.String));
            Assert.That(order.GetProperty("timeline").EnumerateArray().Select(t => t.GetProperty("status").GetString()),
                Is.EqualTo(new[] { "Placed", "Confirmed" }));
            Assert.That(mails, Has.Count.EqualTo(1));
            Assert.That(mails[0].Subject, Does.StartWith("Your order").And.EndWith("is confirmed"));
            Assert.That(mails[0].To, Is.EqualTo(new[] { Tokens.EmailOf("alice") }), "to the address the token vouches for");
        });
    }

    [Test]
    public async Task Order_mail_goes_only_to_the_tokens_verified_address()
    {
        using var carol = Tokens.ClientAs("carol", RunningSystem.OrdersApi);
        var before = await SystemDatabases.OrderRows();

        var elsewhere = await OrderRequests.PostAsync(Api, new { customerEmail = "mallory@example.net", currency = "EUR", paymentToken = "tok_ok", lines = new[] { new { sku = "MUG", quantity = 1 } } });
        var unverified = await OrderRequests.PostAsync(carol, Order());

        var elsewhereProblem = await elsewhere.Content.ReadFromJsonAsync<JsonElement>();
        var unverifiedProblem = await unverified.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Multiple(async () =>
        {
            Assert.That(elsewhere.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), "a body naming another address");
            Assert.That(elsewhereProblem.GetProperty("errors").GetProperty("customerEmail")[0].GetString(), Does.Contain("verified address"));
            Assert.That(unverified.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden), "a customer whose address is not verified");
            Assert.That(unverified.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(unverifiedProblem.GetProperty("title").GetString(), Is.EqualTo("No verified e-mail address"));
            Assert.That(await SystemDatabases.OrderRows(), Is.EqualTo(before), "neither placed an order");
        });
    }

    [Test]
    public async Task Invalid_input_gets_problem_details_listing_each_field_and_writes_no_order()
    {
        var invalid = new
        {
            currency = "XXY",
            paymentToken = "",
            lines = new object[] { new { sku = "A", quantity = 0, unitPrice = -1m } },
        };

        var key = Guid.NewGuid().ToString();
        var response = await OrderRequests.PostAsync(Api, invalid, key);

        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Multiple(async () =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(problem.GetProperty("errors").EnumerateObject().Select(p => p.Name), Is.EquivalentTo(new[]
            {
                "currency", "paymentToken", "lines[0].quantity", "lines[0].unitPrice",
            }));
            Assert.That(await SystemDatabases.OrderRowsForKey(key), Is.Zero);
        });
    }

    [Test]
    public async Task Malformed_json_gets_problem_details_not_a_500()
    {
        using var malformed = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = new StringContent("{\"customerId\": \"c\", \"lines\": [", Encoding.UTF8, "application/json") };
        malformed.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        var response = await Api.SendAsync(malformed);

        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(problem.GetProperty("errors").EnumerateObject().Single().Value[0].GetString(), Does.Contain("not valid JSON"));
        });
    }

    [Test]
    public async Task An_idempotency_key_is_the_customers_own_the_same_body_answers_the_first_order_another_is_422()
    {
        var key = Guid.NewGuid().ToString();
        using var bob = Tokens.ClientAs("bob", RunningSystem.OrdersApi);

        var first = await OrderRequests.PostAsync(Api, Order(), key);
        var retry = await OrderRequests.PostAsync(Api, Order(), key);
        var different = await OrderRequests.PostAsync(Api, Order(token: "tok_declined"), key);
        var anotherCustomer = await OrderRequests.PostAsync(bob, Order(), key);

        Assert.Multiple(async () =>
        {
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(retry.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), "a retry answers the first order again");
            Assert.That(retry.Headers.Location, Is.EqualTo(first.Headers.Location));
            Assert.That(different.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity), "the same key for another request");
            Assert.That(different.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(anotherCustomer.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), "another customer's key is unrelated");
            Assert.That(anotherCustomer.Headers.Location, Is.Not.EqualTo(first.Headers.Location));
            Assert.That(await SystemDatabases.OrderRowsForKey(key), Is.EqualTo(2), "alice's order and bob's");
        });
    }

    [Test]
    public async Task Without_an_idempotency_key_no_order_is_placed()
    {
        var before = await SystemDatabases.OrderRows();

        var response = await Api.PostAsJsonAsync("/orders", Order());

        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Multiple(async () =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(problem.GetProperty("errors").GetProperty("Idempotency-Key")[0].GetString(), Does.Contain("required"));
            Assert.That(await SystemDatabases.OrderRows(), Is.EqualTo(before));
        });
    }

    [Test]
    public async Task Prices_come_from_the_catalog_and_a_client_price_or_an_unsellable_SKU_places_nothing()
    {
        var before = await SystemDatabases.OrderRows();
        object With(object line) => new { currency = "EUR", paymentToken = "tok_ok", lines = new[] { line } };

        var zeroPrice = await OrderRequests.PostAsync(Api, With(new { sku = "BOOK-DDD", quantity = 1, unitPrice = 0m }));
        var unknown = await OrderRequests.PostAsync(Api, With(new { sku = "NO-SUCH-THING", quantity = 1 }));
        var retired = await OrderRequests.PostAsync(Api, With(new { sku = "POSTER-2025", quantity = 1 }));
        var otherCurrency = await OrderRequests.PostAsync(Api, new { currency = "USD", paymentToken = "tok_ok", lines = new[] { new { sku = "BOOK-DDD", quantity = 1 } } });
        var priced = await OrderRequests.PostAsync(Api, With(new { sku = "BOOK-DDD", quantity = 3 }));
        var order = await GetOrder(priced.Headers.Location!);

        async Task<string> Error(HttpResponseMessage response, string field) =>
            (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty(field)[0].GetString()!;

        Assert.Multiple(async () =>
        {
            Assert.That(zeroPrice.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(await Error(zeroPrice, "lines[0].unitPrice"), Does.Contain("catalog"));
            Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(await Error(unknown, "lines[0].sku"), Does.Contain("NO-SUCH-THING"));
            Assert.That(retired.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(await Error(retired, "lines[0].sku"), Does.Contain("no longer for sale"));
            Assert.That(otherCurrency.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(await Error(otherCurrency, "currency"), Does.Contain("EUR"));
            Assert.That(priced.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(order.GetProperty("total").GetDecimal(), Is.EqualTo(127.50m), "3 × 42.50 from deploy/catalog.json");
            Assert.That(await SystemDatabases.OrderRows(), Is.EqualTo(before + 1), "only the priced order");
        });
    }

    [Test]
    public async Task An_orders_payment_and_stock_answers_handled_together_take_turns_and_neither_fails()
    {
        // Orders is paused before each order's answers can reach it, so that it finds the order's payment and stock
        // answers side by side in its queue and handles them at the same time. The steps of one order take turns on
        // its row; without that, one of the two would fail on the order's version, roll back and run again.
        var logged = System.OutputOf(SystemTopology.Orders.Name).Count;
        var orders = new List<Placed>();
        string[] answering = [SystemTopology.Payments.Name, SystemTopology.Inventory.Name];
        for (var i = 0; i < 5; i++)
        {
            foreach (var name in answering) await System.PauseAsync(name);
            try
            {
                orders.Add(await PlaceOrder("tok_ok"));
                await System.PauseAsync(SystemTopology.Orders.Name);
            }
            finally
            {
                foreach (var name in answering) await System.ResumeAsync(name);
            }

            try
            {
                await TestEnvironment.Eventually(() => RabbitMqManagement.MessagesInAsync(SystemTopology.Orders.Queue),
                    n => n >= 2, "the order's payment and stock answers waiting in the orders queue");
            }
            finally
            {
                await System.ResumeAsync(SystemTopology.Orders.Name);
            }
        }

        foreach (var order in orders) await WaitForState(order, "Confirmed");
        var collisions = System.OutputOf(SystemTopology.Orders.Name).Skip(logged)
            .Where(line => line.Contains(nameof(Wolverine.SagaConcurrencyException), StringComparison.Ordinal))
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("message").GetString()).ToList();
        Assert.That(collisions, Is.Empty, "steps that failed on the order's version");
    }

    [Test]
    public async Task An_unknown_order_is_404_problem_details()
    {
        var unknown = await Api.GetAsync($"/orders/{Guid.NewGuid()}");
        var malformed = await Api.GetAsync("/orders/not-a-guid");

        Assert.Multiple(() =>
        {
            Assert.That(unknown.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(unknown.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(malformed.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        });
    }
}
