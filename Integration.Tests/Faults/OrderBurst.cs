using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Integration.Tests.Faults;

/// <summary>
/// Many orders placed at once by several clients, each client behaving as a well-written one does while the
/// system is being hurt: every order carries its own <c>Idempotency-Key</c>, and a refused connection, a reset,
/// a timeout or a 502/503/504/429 is retried with the same key (after Retry-After when the answer gives one)
/// until the order is accepted. So every order the clients meant to place exists exactly once, whatever the
/// fault did to the requests in flight.
/// </summary>
public sealed class OrderBurst
{
    private static readonly TimeSpan GiveUpAfter = TimeSpan.FromMinutes(3);

    private readonly ConcurrentBag<PlacedOrder> _placed = [];
    private readonly ConcurrentDictionary<HttpStatusCode, int> _refusals = new();
    private int _connectionFailures;
    private readonly TaskCompletionSource _firstPlaced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private OrderBurst(string token, int count)
    {
        Token = token;
        Count = count;
    }

    public string Token { get; }

    public int Count { get; }

    /// <summary>The orders accepted so far.</summary>
    public IReadOnlyCollection<PlacedOrder> Placed => _placed;

    /// <summary>Answers other than 202 that the clients retried, by status (a 500 among them is a bug: the edge must say 503).</summary>
    public IReadOnlyDictionary<HttpStatusCode, int> Refusals => _refusals;

    /// <summary>Requests that never got an answer (refused, reset, timed out) and were retried.</summary>
    public int ConnectionFailures => _connectionFailures;

    /// <summary>Completes once every order has been accepted.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>
    /// Starts placing <paramref name="count"/> orders paid with <paramref name="token"/> from <paramref name="clients"/>
    /// clients at once. With several Orders instances in <paramref name="apis"/> each attempt goes to the next one,
    /// as behind a load balancer: a retry after a dead instance reaches a live one.
    /// </summary>
    public static OrderBurst Start(Func<Uri, HttpClient> client, IReadOnlyList<Uri> apis, string token, int count, int clients)
    {
        var burst = new OrderBurst(token, count);
        var next = -1;
        burst.Completion = Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(async () =>
        {
            var instances = Connect(client, apis);
            try
            {
                while (Interlocked.Increment(ref next) < count) await burst.PlaceOneAsync(instances);
            }
            finally
            {
                foreach (var http in instances) http.Dispose();
            }
        })));
        return burst;
    }

    /// <summary>
    /// An open loop instead of a burst: one order every 1/<paramref name="perSecond"/> s for <paramref name="duration"/>,
    /// whether or not the earlier ones are through (at most <paramref name="inFlight"/> requests at once).
    /// </summary>
    public static OrderBurst StartPaced(Func<Uri, HttpClient> client, IReadOnlyList<Uri> apis, string token, double perSecond, TimeSpan duration, int inFlight = 32)
    {
        var count = (int)(perSecond * duration.TotalSeconds);
        var burst = new OrderBurst(token, count);
        burst.Completion = Task.Run(async () =>
        {
            var pool = new ConcurrentBag<HttpClient[]>();
            using var slots = new SemaphoreSlim(inFlight);
            var running = new List<Task>();
            var clock = Stopwatch.StartNew();
            for (var i = 0; i < count; i++)
            {
                var due = TimeSpan.FromSeconds(i / perSecond) - clock.Elapsed;
                if (due > TimeSpan.Zero) await Task.Delay(due);
                await slots.WaitAsync();
                running.Add(Task.Run(async () =>
                {
                    var instances = pool.TryTake(out var idle) ? idle : Connect(client, apis);
                    try { await burst.PlaceOneAsync(instances); }
                    finally
                    {
                        pool.Add(instances);
                        slots.Release();
                    }
                }));
            }

            await Task.WhenAll(running);
            foreach (var instances in pool) foreach (var http in instances) http.Dispose();
        });
        return burst;
    }

    private static HttpClient[] Connect(Func<Uri, HttpClient> client, IReadOnlyList<Uri> apis) =>
        apis.Select(api =>
        {
            var http = client(api);
            http.Timeout = TimeSpan.FromSeconds(15);
            return http;
        }).ToArray();

    /// <summary>Waits until at least <paramref name="orders"/> orders are accepted (or the burst ends).</summary>
    public async Task WhenPlacedAsync(int orders)
    {
        var deadline = Stopwatch.StartNew();
        while (_placed.Count < orders && !Completion.IsCompleted && deadline.Elapsed < GiveUpAfter) await Task.Delay(20);
        if (Completion.IsFaulted) await Completion;
    }

    private async Task PlaceOneAsync(HttpClient[] instances)
    {
        var key = Guid.NewGuid();
        var body = new
        {
            currency = "EUR",
            paymentToken = Token,
            lines = new object[] { new { sku = "BOOK-DDD", quantity = 1 }, new { sku = "MUG", quantity = 2 } },
        };

        var patience = Stopwatch.StartNew();
        var backoff = TimeSpan.FromMilliseconds(100);
        for (var attempt = 0; ; attempt++)
        {
            var http = instances[attempt % instances.Length];
            TimeSpan wait;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = JsonContent.Create(body) };
                request.Headers.Add("Idempotency-Key", key.ToString());
                using var response = await http.SendAsync(request);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
                    _placed.Add(new PlacedOrder(id, key, DateTimeOffset.UtcNow));
                    return;
                }

                if (response.StatusCode is not (HttpStatusCode.InternalServerError or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable
                    or HttpStatusCode.GatewayTimeout or HttpStatusCode.TooManyRequests))
                {
                    throw new AssertionException($"POST /orders answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }

                _refusals.AddOrUpdate(response.StatusCode, 1, (_, n) => n + 1);
                wait = response.Headers.RetryAfter?.Delta ?? backoff;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                Interlocked.Increment(ref _connectionFailures);
                wait = backoff;
            }

            if (patience.Elapsed > GiveUpAfter) throw new AssertionException($"order {key} was still not accepted after {GiveUpAfter}");
            await Task.Delay(wait);
            backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 2000));
        }
    }
}

/// <summary>An order the system accepted: its id, the client's key for it, and the customer's unique address.</summary>
public sealed record PlacedOrder(Guid Id, Guid IdempotencyKey, DateTimeOffset AcceptedAt);
