using System.Net.Http.Json;

namespace Integration.Tests.System;

/// <summary><c>POST /orders</c> as a well-behaved client sends it: JSON, with an <c>Idempotency-Key</c> of its own.</summary>
public static class OrderRequests
{
    /// <summary>The two-line order the tests place: 1 × BOOK-DDD (42.50) and 2 × MUG (9.95), 62.40 EUR from the catalog.</summary>
    public static object TwoLines(string token = "tok_ok") => new
    {
        currency = "EUR",
        paymentToken = token,
        lines = new object[] { new { sku = "BOOK-DDD", quantity = 1 }, new { sku = "MUG", quantity = 2 } },
    };

    /// <summary>Posts <paramref name="body"/> under <paramref name="idempotencyKey"/> (a new one unless given).</summary>
    public static async Task<HttpResponseMessage> PostAsync(HttpClient api, object body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", idempotencyKey ?? Guid.NewGuid().ToString());
        return await api.SendAsync(request);
    }
}
