using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Conveyor.Bench;

/// <summary>
/// A customer placing orders over the authenticated HTTP API, the system's or the baseline's (the same request,
/// the same token): one SKU, <c>tok_ok</c>, a new Idempotency-Key each. With several Orders instances the
/// requests take turns, as a load balancer would send them.
/// </summary>
public sealed class OrderClient(BenchOptions options, IReadOnlyList<Uri> apis) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = Math.Max(64, options.Concurrency * 2), PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
    private readonly CustomerToken _token = new(options.TokenEndpoint);
    private int _next;

    /// <summary>The order's id when it was accepted (202), null otherwise.</summary>
    public async Task<Guid?> PlaceAsync(CancellationToken cancellation)
    {
        var api = apis[(Interlocked.Increment(ref _next) & int.MaxValue) % apis.Count];
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(api, "/orders"))
        {
            Content = JsonContent.Create(new
            {
                currency = "EUR", paymentToken = "tok_ok",
                lines = new[] { new { sku = "BOOK-DDD", quantity = 1 } },
            }),
        };
        request.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await _token.GetAsync(cancellation));
        using var response = await _http.SendAsync(request, cancellation);
        if (response.StatusCode != HttpStatusCode.Accepted) return null;
        return (await response.Content.ReadFromJsonAsync<JsonElement>(cancellation)).GetProperty("id").GetGuid();
    }

    public void Dispose() => _http.Dispose();

    /// <summary>alice's token (a customer of the realm), renewed before the realm's 5-minute lifetime ends.</summary>
    private sealed class CustomerToken(Uri tokenEndpoint)
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private readonly HttpClient _http = new();
        private string? _token;
        private DateTime _renewAt;

        public async Task<string> GetAsync(CancellationToken cancellation)
        {
            if (_token is not null && DateTime.UtcNow < _renewAt) return _token;
            await _gate.WaitAsync(cancellation);
            try
            {
                if (_token is not null && DateTime.UtcNow < _renewAt) return _token;
                // LOCAL DEVELOPMENT DEFAULTS ONLY: a development user of deploy/keycloak/conveyor-realm.json.
                var response = await _http.PostAsync(tokenEndpoint, new FormUrlEncodedContent(new Dictionary<string, string>
                {
                    ["grant_type"] = "password", ["client_id"] = "conveyor-cli", ["username"] = "alice", ["password"] = "alice-dev-only", ["scope"] = "openid conveyor-api",
                }), cancellation);
                response.EnsureSuccessStatusCode();
                _token = (await response.Content.ReadFromJsonAsync<JsonElement>(cancellation)).GetProperty("access_token").GetString();
                _renewAt = DateTime.UtcNow.AddMinutes(4);
                return _token!;
            }
            finally
            {
                _gate.Release();
            }
        }
    }
}
