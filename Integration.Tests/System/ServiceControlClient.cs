using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Integration.Tests.Infrastructure;

namespace Integration.Tests.System;

/// <summary>
/// ServiceControl's REST API, as an operator's script would use it: failed messages are found here once
/// they have gone through <c>error</c>.
/// </summary>
public sealed class ServiceControlClient(HttpClient http) : IDisposable
{
    public HttpClient Http { get; } = http;

    public void Dispose() => Http.Dispose();

    /// <summary>Calls as olivia, who has the ops role (reading and every action).</summary>
    public static ServiceControlClient ForRunningSystem() => new(Tokens.ClientAs("olivia", RunningSystem.ServiceControlApi));

    /// <summary>Every stored message in <paramref name="status"/> (unresolved by default).</summary>
    public async Task<IReadOnlyList<JsonElement>> ListAsync(string status = "Unresolved", string? groupId = null)
    {
        var query = $"/api/failed-messages?status={status}&pageSize=500" + (groupId is null ? "" : $"&groupId={Uri.EscapeDataString(groupId)}");
        var page = await Http.GetFromJsonAsync<JsonElement>(query);
        return page.GetProperty("items").EnumerateArray().ToList();
    }

    public async Task<JsonElement?> FindAsync(Guid id)
    {
        var response = await Http.GetAsync($"/api/failed-messages/{id}");
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public async Task<JsonElement> GetAsync(Guid id) => await FindAsync(id) ?? throw new AssertionException($"failed message {id} is not in ServiceControl");

    /// <summary>Waits until a failed message matching <paramref name="match"/> (on its summary) is stored, and returns its detail.</summary>
    public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> match, string what, string status = "Unresolved", TimeSpan? timeout = null)
    {
        var found = await TestEnvironment.Eventually(async () => (await ListAsync(status)).Where(match).Select(m => (JsonElement?)m).FirstOrDefault(),
            m => m is not null, what, timeout);
        return await GetAsync(found!.Value.GetProperty("id").GetGuid());
    }

    /// <summary>Waits for the OrderPlaced of <paramref name="orderId"/> that failed in Payments.</summary>
    public Task<JsonElement> WaitForOrderPlacedAsync(Guid orderId, string what, TimeSpan? timeout = null) =>
        WaitForAsync(m => CorrelationOf(m) == orderId.ToString() && m.GetProperty("messageType").GetString() == "Conveyor.Messages.OrderPlaced", what, timeout: timeout);

    /// <summary>Waits until the message's status is <paramref name="status"/> (and optionally more holds).</summary>
    public Task<JsonElement> WaitForStatusAsync(Guid id, string status, Func<JsonElement, bool>? and = null, TimeSpan? timeout = null) =>
        TestEnvironment.Eventually(() => GetAsync(id), d => StatusOf(d) == status && (and?.Invoke(d) ?? true), $"failed message {id} to be {status}", timeout);

    /// <summary>Every group of <paramref name="classifier"/>, page after page as a client reads them.</summary>
    public async Task<IReadOnlyList<JsonElement>> GroupsAsync(string classifier, string status = "Unresolved", int pageSize = 500)
    {
        var groups = new List<JsonElement>();
        for (var page = 1; ; page++)
        {
            var result = await Http.GetFromJsonAsync<JsonElement>($"/api/failure-groups?classifier={classifier}&status={status}&page={page}&pageSize={pageSize}");
            groups.AddRange(result.GetProperty("items").EnumerateArray());
            if (page >= result.GetProperty("pages").GetInt32()) return groups;
        }
    }

    public Task<HttpResponseMessage> PostAsync(string path, object? body = null) =>
        body is null ? Http.PostAsync(path, null) : Http.PostAsJsonAsync(path, body);

    public static Guid IdOf(JsonElement detail) => detail.GetProperty("summary").GetProperty("id").GetGuid();

    public static string StatusOf(JsonElement detail) => detail.GetProperty("summary").GetProperty("status").GetString()!;

    public static int FailureCountOf(JsonElement detail) => detail.GetProperty("summary").GetProperty("failureCount").GetInt32();

    public static string? Header(JsonElement detail, string name) =>
        detail.GetProperty("headers").TryGetProperty(name, out var value) ? value.GetString() : null;

    private static string? CorrelationOf(JsonElement summary) =>
        summary.GetProperty("correlationId").ValueKind == JsonValueKind.String ? summary.GetProperty("correlationId").GetString() : null;
}
