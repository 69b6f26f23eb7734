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

    public static async Task<IReadOnlyList<Message>> MessagesTo(string recipient)
    {
        using var http = new HttpClient { BaseAddress = Infrastructure.TestEnvironment.SmtpApi };
        var page = await http.GetFromJsonAsync<Page>("/api/messages?pageSize=1000");
        return page!.Results.Where(m => m.To.Contains(recipient, StringComparer.OrdinalIgnoreCase)).ToList();
    }
}
