using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Integration.Tests.Infrastructure;

/// <summary>The broker's own view of a queue, from the management API (ready and unacknowledged messages together).</summary>
public static class RabbitMqManagement
{
    public static async Task<long> MessagesInAsync(string queue)
    {
        var amqp = new Uri(TestEnvironment.RabbitMq);
        using var http = new HttpClient { BaseAddress = TestEnvironment.RabbitMqManagement };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(amqp.UserInfo))));
        // The management API refreshes its counters every few seconds: wait until it has seen the message.
        return (await TestEnvironment.Eventually(
            () => http.GetFromJsonAsync<JsonElement>($"/api/queues/{Uri.EscapeDataString(amqp.AbsolutePath.Trim('/'))}/{queue}"),
            q => q.TryGetProperty("messages", out var m) && m.GetInt64() > 0, $"the broker to count a message in {queue}", TimeSpan.FromSeconds(20)))
            .GetProperty("messages").GetInt64();
    }
}
