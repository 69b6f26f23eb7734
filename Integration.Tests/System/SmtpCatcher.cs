using Conveyor.Notifications;
using System.Net.Http.Json;
using System.Text.Json.Serialization;

namespace Integration.Tests.System;

/// <summary>The SMTP catcher's (smtp4dev) HTTP API: what really arrived over SMTP.</summary>
public static class SmtpCatcher
{
    public sealed record Message(
        [property: JsonPropertyName("id")] string Id,
        [property: JsonPropertyName("to")] string[] To,
        [property: JsonPropertyName("subject")] string Subject);

    private sealed record Page([property: JsonPropertyName("results")] Message[] Results);

    public static async Task<IReadOnlyList<Message>> MessagesTo(string recipient) =>
        [.. (await AllAsync()).Where(m => m.To.Contains(recipient, StringComparer.OrdinalIgnoreCase))];

    /// <summary>The customer mails about one order: its number is in every subject (a customer's orders all go to one address).</summary>
    public static async Task<IReadOnlyList<Message>> MessagesAbout(Guid orderId) =>
        [.. (await AllAsync()).Where(m => m.Subject.Contains(CustomerNotification.ShortId(orderId), StringComparison.Ordinal))];

    private static async Task<Message[]> AllAsync()
    {
        using var http = new HttpClient { BaseAddress = Infrastructure.TestEnvironment.SmtpApi };
        var page = await http.GetFromJsonAsync<Page>("/api/messages?pageSize=1000");
        return page!.Results;
    }
}
