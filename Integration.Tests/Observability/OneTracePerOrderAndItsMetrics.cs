using Conveyor.Topology;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;
using Microsoft.Playwright;

namespace Integration.Tests.Observability;

/// <summary>
/// The real processes export over OTLP to a real Aspire Dashboard and are scraped by a real Prometheus: an
/// order placed over HTTP is one trace across Orders, Payments and Notifications, and the business counters
/// Prometheus reads match the orders placed.
/// </summary>
public class OneTracePerOrderAndItsMetrics : SystemFixture
{
    private const string Chromium = "/usr/bin/chromium";
    private AspireDashboard _dashboard = null!;
    private PrometheusServer _prometheus = null!;
    private int _ordersPlaced;
    private (Guid OrderId, string TraceId)? _tracedOrder;

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Conveyor__Telemetry__OtlpEndpoint"] = AspireDashboard.OtlpEndpoint.ToString(),
        // Small batches, often: the test reads what was exported, and waits for it with a deadline.
        ["OTEL_BSP_SCHEDULE_DELAY"] = "500",
        // Long enough for a payment failed in an outage to be retried before the order is cancelled.
        ["Orders__PaymentDeadline"] = "00:05:00",
    };

    protected override async Task BeforeTheSystemStartsAsync()
    {
        _dashboard = await AspireDashboard.StartAsync();
        _prometheus = await PrometheusServer.StartAsync(RunningSystem.ScrapeTargets, "conveyor-tests");
    }

    [OneTimeTearDown]
    public async Task StopTheReceivers()
    {
        if (_dashboard is not null) await _dashboard.DisposeAsync();
        if (_prometheus is not null) await _prometheus.DisposeAsync();
    }

    private async Task<Placed> PlaceCountedOrder()
    {
        var order = await PlaceOrder("tok_ok");
        Interlocked.Increment(ref _ordersPlaced);
        return order;
    }

    [Test, Order(1)]
    public async Task An_order_is_one_trace_across_orders_payments_and_notifications_in_causal_order()
    {
        var order = await PlaceCountedOrder();
        await WaitForState(order, "Confirmed");

        var traceId = await TestEnvironment.Eventually(() => _dashboard.TraceOfOrderAsync(order.Id), id => id is not null, $"a span tagged with order {order.Id}");
        // Notifications handles OrderConfirmed last: wait until the span of the attempt that handled it has arrived
        // too (an attempt before it may have failed: the OrderPlaced that feeds its read model can come later).
        var spans = await _dashboard.WaitForTraceAsync(traceId!,
            found => SystemTopology.BusinessEndpoints.Select(e => e.Name).All(service => found.Any(s => s.Service == service && s.Attributes.GetValueOrDefault("conveyor.order_id") == order.Id.ToString()))
                     && found.Any(s => s.Service == SystemTopology.Notifications.Name && s.Name.Contains("OrderConfirmed") && s.Attributes.GetValueOrDefault("conveyor.outcome") == "handled"),
            $"spans of trace {traceId} from all three endpoints");

        var byId = spans.ToDictionary(s => s.SpanId);
        var roots = spans.Where(s => s.ParentSpanId is null).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(spans.Select(s => s.TraceId).Distinct(), Is.EqualTo(new[] { traceId }), "one trace id");
            Assert.That(roots, Has.Count.EqualTo(1), "one root: " + string.Join(", ", roots.Select(r => $"{r.Service}:{r.Name}")));
            Assert.That(roots[0].Service, Is.EqualTo(SystemTopology.Orders.Name));
            Assert.That(roots[0].Name, Does.Contain("POST"), "the trace starts with the HTTP request that placed the order");
            foreach (var span in spans.Where(s => s.ParentSpanId is not null))
            {
                Assert.That(byId.ContainsKey(span.ParentSpanId!), Is.True, $"{span.Service}:{span.Name} has its parent in the trace");
                if (byId.TryGetValue(span.ParentSpanId!, out var parent))
                {
                    Assert.That(span.StartUnixNano, Is.GreaterThanOrEqualTo(parent.StartUnixNano), $"{span.Service}:{span.Name} starts after its cause {parent.Service}:{parent.Name}");
                }
            }

            var handled = spans.Where(s => s.Attributes.GetValueOrDefault("conveyor.outcome") == "handled").ToList();
            Assert.That(handled.Select(s => s.Service).Distinct(), Is.SupersetOf(SystemTopology.BusinessEndpoints.Select(e => e.Name)), "each endpoint's handling span says how it ended");
            Assert.That(handled.Select(s => s.Attributes.GetValueOrDefault("messaging.message_type")).OfType<string>(), Is.Not.Empty, "handling spans carry the message type");
            Assert.That(spans.Any(s => s.Service == SystemTopology.Notifications.Name && s.Name == "smtp send"), Is.True, "the e-mail's SMTP round trip has its own span");
        });

        _tracedOrder = (order.Id, traceId!);
        await ScreenshotTheTrace(traceId!);
    }

    [Test, Order(2)]
    public async Task A_retried_failure_stays_in_its_orders_trace_through_servicecontrols_retry()
    {
        using var serviceControl = ServiceControlClient.ForRunningSystem();
        using var paymentsAdmin = Tokens.ClientAs("olivia", RunningSystem.PaymentsApi);
        await paymentsAdmin.PutAsJsonAsync("/admin/provider-outage", new { active = true });
        Placed order;
        JsonElement failed;
        try
        {
            order = await PlaceCountedOrder();
            failed = await serviceControl.WaitForOrderPlacedAsync(order.Id, "the OrderPlaced failed in the outage");
        }
        finally
        {
            await paymentsAdmin.PutAsJsonAsync("/admin/provider-outage", new { active = false });
        }

        var retry = await serviceControl.PostAsync($"/api/failed-messages/{ServiceControlClient.IdOf(failed)}/retry");
        Assert.That(retry.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
        await WaitForState(order, "Confirmed");

        var traceId = await TestEnvironment.Eventually(() => _dashboard.TraceOfOrderAsync(order.Id), id => id is not null, $"a span tagged with order {order.Id}");
        var spans = await _dashboard.WaitForTraceAsync(traceId!,
            found => found.FirstOrDefault(s => s.Service == SystemTopology.ServiceControl.Name && s.Name == "retry Conveyor.Messages.OrderPlaced") is { } retried
                     && found.Any(s => s.Service == SystemTopology.Payments.Name && s.ParentSpanId == retried.SpanId)
                     && found.Any(s => s.Service == SystemTopology.Orders.Name && s.Name.Contains("PaymentAuthorized")),
            $"ServiceControl's retry, Payments' handling of it and the confirmation, all in trace {traceId}");
        var retrySpan = spans.Single(s => s.Service == SystemTopology.ServiceControl.Name && s.Name == "retry Conveyor.Messages.OrderPlaced");

        Assert.Multiple(() =>
        {
            Assert.That(retrySpan.Attributes.GetValueOrDefault("conveyor.order_id"), Is.EqualTo(order.Id.ToString()));
            Assert.That(spans.Where(s => s.ParentSpanId is null).Select(s => s.Name), Is.EqualTo(new[] { "POST /orders" }), "still the one trace that began with the order");
        });
    }

    [Test, Order(3)]
    public async Task Prometheus_scrapes_every_endpoint_and_the_business_counters_match_the_orders_placed()
    {
        for (var i = 0; i < 3; i++) await WaitForState(await PlaceCountedOrder(), "Confirmed");
        var placed = _ordersPlaced;

        await TestEnvironment.Eventually(() => _prometheus.QueryAsync("up{job=\"conveyor\"} == 1"), up => up.Count == SystemTopology.Endpoints.Count, "Prometheus to scrape every process");
        // Every order here is tok_ok: placed, authorized, confirmed and mailed once each.
        foreach (var counter in new[] { "conveyor_orders_placed_total", "conveyor_payments_authorized_total", "conveyor_orders_confirmed_total", "conveyor_emails_sent_total" })
        {
            await TestEnvironment.Eventually(() => _prometheus.ScalarAsync($"sum({counter})"), value => value == placed, $"{counter} to reach {placed}");
        }

        var criticalTime = await TestEnvironment.Eventually(
            () => _prometheus.QueryAsync("sum by (endpoint, message_type) (conveyor_messaging_critical_time_seconds_count)"),
            series => series.Any(s => s.Labels.GetValueOrDefault("endpoint") == SystemTopology.Payments.Name && s.Labels.GetValueOrDefault("message_type") == "Conveyor.Messages.OrderPlaced"),
            "a critical time histogram for OrderPlaced in Payments");
        var queues = await _prometheus.QueryAsync("rabbitmq_detailed_queue_messages_ready{queue=\"payments\"}");

        Assert.Multiple(() =>
        {
            Assert.That(criticalTime.Single(s => s.Labels["endpoint"] == SystemTopology.Payments.Name && s.Labels["message_type"] == "Conveyor.Messages.OrderPlaced").Value, Is.GreaterThanOrEqualTo(placed));
            Assert.That(queues, Has.Count.EqualTo(1), "queue lengths come from RabbitMQ's own exporter");
        });
    }

    [Test, Order(4)]
    public async Task Every_grafana_panel_query_returns_a_series_from_prometheus()
    {
        // Something for every panel: a decline, transient failures (retries), a customer's cancellation with
        // its refund; the outage test before left a message moved to error.
        var declined = await PlaceOrder("tok_declined");
        var flaky = await PlaceOrder("tok_flaky");
        var cancelled = await PlaceOrder("tok_ok");
        await WaitForState(declined, "Cancelled(PaymentDeclined)");
        await WaitForState(flaky, "Confirmed");
        await WaitForState(cancelled, "Confirmed");
        var cancel = await Api.PostAsync($"/orders/{cancelled.Id}/cancel", null);
        Assert.That(cancel.IsSuccessStatusCode, Is.True, await cancel.Content.ReadAsStringAsync());
        await TestEnvironment.Eventually(() => GetOrder(cancelled.Location), o => o.GetProperty("status").GetString() == "Refunded", $"order {cancelled.Id} to be refunded");

        var queries = GrafanaDashboards.PanelQueries().ToList();
        Assert.That(queries, Has.Count.GreaterThanOrEqualTo(20), "the three dashboards' queries");
        // Grafana's $__rate_interval is at least four scrape intervals; this Prometheus scrapes every second.
        var pending = queries.ToDictionary(q => $"{q.Dashboard} / {q.Panel}: {q.Expression}", q => q.Expression.Replace("$__rate_interval", "30s"));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            foreach (var (name, promql) in pending.ToList())
            {
                if ((await _prometheus.QueryAsync(promql)).Count > 0) pending.Remove(name);
            }

            if (pending.Count == 0 || DateTime.UtcNow > deadline) break;
            await Task.Delay(TimeSpan.FromSeconds(1)); // the next scrape
        }

        var empty = pending.Keys.ToList();
        Assert.That(empty, Is.Empty, "panels whose query returned no series");
    }

    [Test, Order(5)]
    public void Every_log_line_is_ecs_json_and_an_orders_lines_in_every_process_carry_its_trace_and_order_id()
    {
        if (_tracedOrder is null) Assert.Inconclusive("The trace test did not get as far as a traced order.");
        var traced = _tracedOrder!.Value;
        var orderLines = new Dictionary<string, List<JsonElement>>();
        var notEcs = new List<string>();
        foreach (var process in SystemTopology.Endpoints.Select(e => e.Name))
        {
            orderLines[process] = [];
            foreach (var line in System.OutputOf(process).Where(l => l.Length > 0))
            {
                JsonElement entry;
                try
                {
                    entry = JsonDocument.Parse(line).RootElement;
                }
                catch (JsonException)
                {
                    notEcs.Add($"{process}: {line}");
                    continue;
                }

                if (!new[] { "@timestamp", "log.level", "message", "ecs.version", "service.name" }.All(field => entry.TryGetProperty(field, out _))
                    || entry.GetProperty("service.name").GetString() != process)
                {
                    notEcs.Add($"{process}: {line}");
                }
                else if (entry.TryGetProperty("conveyor.order_id", out var orderId) && orderId.GetString() == traced.OrderId.ToString())
                {
                    orderLines[process].Add(entry);
                }
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(notEcs, Is.Empty, "lines that are not ECS JSON");
            foreach (var process in SystemTopology.BusinessEndpoints.Select(e => e.Name))
            {
                Assert.That(orderLines[process], Is.Not.Empty, $"{process} wrote lines for order {traced.OrderId}");
                Assert.That(orderLines[process].Select(l => l.TryGetProperty("trace.id", out var id) ? id.GetString() : null).Distinct(), Is.EqualTo(new[] { traced.TraceId }),
                    $"{process}'s lines for the order carry its trace id");
                Assert.That(orderLines[process].Where(l => l.GetProperty("log.logger").GetString()!.StartsWith("Conveyor.Messages.")).All(l => l.TryGetProperty("conveyor.message_id", out _) && l.TryGetProperty("span.id", out _)),
                    Is.True, $"{process}'s lines written while handling a message name the message and the span");
            }
        });
    }

    private async Task ScreenshotTheTrace(string traceId)
    {
        if (!File.Exists(Chromium)) return;
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox", "--disable-gpu"] });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } });
        await page.GotoAsync(new Uri(AspireDashboard.Ui, $"traces/detail/{traceId}").ToString());
        // A Blazor page: wait until it has rendered the spans, then take the picture.
        await Assertions.Expect(page.GetByText(new Regex("smtp send")).First).ToBeVisibleAsync(new() { Timeout = 30_000 });
        var path = Path.Combine(RunningSystem.FindRepositoryRoot(), ".artifacts", "screenshots", "aspire-trace-of-one-order.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.AddTestAttachment(path, "one order's trace in the Aspire Dashboard");
    }
}
