using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Integration.Tests.Infrastructure;

namespace Integration.Tests.System;

/// <summary>The three endpoint executables, a real broker, real databases and a real SMTP server: an order from HTTP to e-mail.</summary>
public class AnOrderFlowsThroughTheSystem : SystemFixture
{
    private static object Order(string email, string token = "tok_ok") => new
    {
        customerEmail = email,
        currency = "EUR",
        paymentToken = token,
        lines = new object[] { new { sku = "BOOK-DDD", quantity = 1, unitPrice = 42.50m }, new { sku = "MUG", quantity = 2, unitPrice = 9.95m } },
    };

    private static string UniqueEmail() => $"systest-{Guid.NewGuid():N}@example.com";

    [Test]
    public void The_three_endpoints_and_ServiceControl_are_four_separate_processes() =>
        Assert.That(System.Processes.Select(p => p.Id).Distinct().Count(), Is.EqualTo(4));

    [Test]
    public async Task A_placed_order_is_confirmed_and_the_customer_gets_one_email()
    {
        var email = UniqueEmail();

        var response = await Api.PostAsJsonAsync("/orders", Order(email));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        var location = response.Headers.Location!;
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.That(location.ToString(), Is.EqualTo($"/orders/{body.GetProperty("id").GetGuid()}"));

        var order = await TestEnvironment.Eventually(() => GetOrder(location),
            o => o.GetProperty("status").GetString() == "Confirmed", "the order to be Confirmed");
        var mails = await TestEnvironment.Eventually(() => SmtpCatcher.MessagesTo(email), m => m.Count > 0, $"an e-mail to {email}");

        Assert.Multiple(() =>
        {
            Assert.That(order.GetProperty("total").GetDecimal(), Is.EqualTo(62.40m));
            Assert.That(order.GetProperty("paymentId").ValueKind, Is.EqualTo(JsonValueKind.String));
            Assert.That(order.GetProperty("timeline").EnumerateArray().Select(t => t.GetProperty("status").GetString()),
                Is.EqualTo(new[] { "Placed", "Confirmed" }));
            Assert.That(mails, Has.Count.EqualTo(1));
            Assert.That(mails[0].Subject, Does.StartWith("Your order").And.EndWith("is confirmed"));
        });
    }

    [Test]
    public async Task Invalid_input_gets_problem_details_listing_each_field_and_writes_no_order()
    {
        var invalid = new
        {
            customerEmail = "not-an-email",
            currency = "XXY",
            paymentToken = "",
            lines = new object[] { new { sku = "A", quantity = 0, unitPrice = -1m } },
        };

        var response = await Api.PostAsJsonAsync("/orders", invalid);

        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Multiple(async () =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(problem.GetProperty("errors").EnumerateObject().Select(p => p.Name), Is.EquivalentTo(new[]
            {
                "customerEmail", "currency", "paymentToken", "lines[0].quantity", "lines[0].unitPrice",
            }));
            Assert.That(await SystemDatabases.OrderRowsForEmail("not-an-email"), Is.Zero);
        });
    }

    [Test]
    public async Task Malformed_json_gets_problem_details_not_a_500()
    {
        var response = await Api.PostAsync("/orders", new StringContent("{\"customerId\": \"c\", \"lines\": [", Encoding.UTF8, "application/json"));

        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Multiple(() =>
        {
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
            Assert.That(problem.GetProperty("errors").EnumerateObject().Single().Value[0].GetString(), Does.Contain("not valid JSON"));
        });
    }

    [Test]
    public async Task The_same_idempotency_key_returns_the_same_order_and_a_different_body_conflicts()
    {
        var key = Guid.NewGuid().ToString();
        var email = UniqueEmail();

        async Task<HttpResponseMessage> Post(object body)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", key);
            return await Api.SendAsync(request);
        }

        var first = await Post(Order(email));
        var retry = await Post(Order(email));
        var different = await Post(Order(email, token: "tok_declined"));

        Assert.Multiple(async () =>
        {
            Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(retry.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(retry.Headers.Location, Is.EqualTo(first.Headers.Location));
            Assert.That(different.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
            Assert.That(different.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
            Assert.That(await SystemDatabases.OrderRowsForEmail(email), Is.EqualTo(1));
        });
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
