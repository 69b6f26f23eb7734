using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Conveyor.Hosting;

/// <summary>
/// Conveyor's own spans and metrics. The business counters count a fact where the endpoint that owns it
/// records it; a handler attempt that rolls back and is retried counts again (rare, and visible as a retry).
/// </summary>
public static class ConveyorTelemetry
{
    public const string Name = "Conveyor";
    public const string OrderIdAttribute = "conveyor.order_id";
    public const string EndpointAttribute = "conveyor.endpoint";
    public const string OutcomeAttribute = "conveyor.outcome";

    public static readonly ActivitySource Source = new(Name);

    /// <summary>This process among the endpoint's instances (OpenTelemetry's <c>service.instance.id</c>), the same for its traces, metrics and logs.</summary>
    public static readonly string InstanceId = $"{Environment.MachineName}-{Environment.ProcessId}";
    private static readonly Meter Meter = new(Name);

    public static readonly Counter<long> OrdersPlaced = Meter.CreateCounter<long>("conveyor.orders.placed", "{order}", "Orders accepted by the Orders API");
    public static readonly Counter<long> OrdersConfirmed = Meter.CreateCounter<long>("conveyor.orders.confirmed", "{order}", "Orders confirmed after their payment was authorized");
    public static readonly Counter<long> OrdersCancelled = Meter.CreateCounter<long>("conveyor.orders.cancelled", "{order}", "Orders cancelled, by reason");
    public static readonly Counter<long> PaymentsAuthorized = Meter.CreateCounter<long>("conveyor.payments.authorized", "{payment}", "Payments the provider authorized");
    public static readonly Counter<long> PaymentsDeclined = Meter.CreateCounter<long>("conveyor.payments.declined", "{payment}", "Payments the provider declined");
    public static readonly Counter<long> PaymentsRefunded = Meter.CreateCounter<long>("conveyor.payments.refunded", "{payment}", "Payments refunded after a cancellation");
    public static readonly Counter<long> EmailsSent = Meter.CreateCounter<long>("conveyor.emails.sent", "{email}", "E-mails the SMTP server accepted");
    public static readonly Counter<long> AuditCopiesRejected = Meter.CreateCounter<long>("conveyor.audit.rejected", "{message}", "Messages in audit that ServiceControl refused: not published by a business endpoint, or without a message id");
    public static readonly Counter<long> FailuresRejected = Meter.CreateCounter<long>("conveyor.failures.rejected", "{message}", "Messages in error that ServiceControl refused: not put there by the endpoint owning their queue");

    public static readonly Histogram<double> ProcessingTime = Meter.CreateHistogram<double>("conveyor.messaging.processing_time", "s", "Time a handler took for a message it handled");
    public static readonly Histogram<double> CriticalTime = Meter.CreateHistogram<double>("conveyor.messaging.critical_time", "s", "Time from a message's sending to its handling, queueing and retries included");

    /// <summary>Puts the order on the current span (HTTP request or message handling).</summary>
    public static void TagOrder(Guid orderId) => Activity.Current?.SetTag(OrderIdAttribute, orderId.ToString());
}

/// <summary>Where telemetry goes (<c>Conveyor:Telemetry</c>).</summary>
public sealed class TelemetryOptions
{
    public const string Section = "Conveyor:Telemetry";

    /// <summary>
    /// The OTLP/HTTP receiver for traces, metrics and logs (the Aspire Dashboard locally, an OpenTelemetry
    /// Collector in deployment). Unset: nothing is exported, but spans still give every log line its trace id.
    /// The standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is honoured as well.
    /// </summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>Networks that may scrape <c>/metrics</c> without a token (the Prometheus scrape network); loopback when none are configured.</summary>
    public string[] ScrapeNetworks { get; set; } = [];

    public static TelemetryOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<TelemetryOptions>() ?? new TelemetryOptions();
        // Not a property initializer: the configuration binder appends to an array, it does not replace it.
        if (options.ScrapeNetworks.Length == 0) options.ScrapeNetworks = ["127.0.0.0/8", "::1/128"];
        if (options.OtlpEndpoint is null && Uri.TryCreate(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"], UriKind.Absolute, out var standard)) options.OtlpEndpoint = standard;
        foreach (var network in options.ScrapeNetworks)
        {
            if (!IPNetwork.TryParse(network, out _)) throw new InvalidOperationException($"{Section}:ScrapeNetworks: '{network}' is not a network in CIDR notation.");
        }

        return options;
    }
}

/// <summary>
/// OpenTelemetry for every host, configured once: spans for ASP.NET Core, HttpClient, Wolverine (whose
/// W3C trace context travels in the message headers, so one order is one trace across processes), Npgsql
/// and Conveyor's own; metrics for the same plus the runtime and the business counters, exposed on
/// <c>/metrics</c> for Prometheus and, with logs, exported over OTLP when an endpoint is configured.
/// </summary>
public static class Telemetry
{
    public const string MetricsPolicy = "metrics-scraper";

    // Latency buckets in seconds, from a fast handler to a message that waited out its retries.
    private static readonly double[] LatencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    internal static TelemetryOptions AddConveyorTelemetry(this WebApplicationBuilder builder, string endpoint)
    {
        var options = TelemetryOptions.From(builder.Configuration);
        builder.Services.AddSingleton(options);

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(endpoint, serviceNamespace: "conveyor", serviceInstanceId: ConveyorTelemetry.InstanceId))
            .WithTracing(tracing => tracing
                .SetSampler(new ParentBasedSampler(new QuietBackgroundWork()))
                .AddSource(ConveyorTelemetry.Name, "Wolverine")
                .AddAspNetCoreInstrumentation(http => http.Filter = context => !IsOperational(context.Request.Path))
                .AddHttpClientInstrumentation()
                .AddNpgsql())
            .WithMetrics(metrics => metrics
                .AddMeter(ConveyorTelemetry.Name, ConveyorTelemetry.Name + ".*", "Wolverine*")
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddView(ConveyorTelemetry.ProcessingTime.Name, new ExplicitBucketHistogramConfiguration { Boundaries = LatencyBuckets })
                .AddView(ConveyorTelemetry.CriticalTime.Name, new ExplicitBucketHistogramConfiguration { Boundaries = LatencyBuckets })
                // Wolverine's own timings duplicate the two above, in milliseconds: not exported.
                .AddView("wolverine-execution-time", MetricStreamConfiguration.Drop)
                .AddView("wolverine-effective-time", MetricStreamConfiguration.Drop)
                .AddPrometheusExporter());
        if (options.OtlpEndpoint is { } otlp) telemetry.UseOtlpExporter(OtlpExportProtocol.HttpProtobuf, otlp);

        builder.Services.AddAuthorizationBuilder().AddPolicy(MetricsPolicy, policy => policy
            .AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme)
            .RequireAssertion(context =>
                context.User.IsInRole(ConveyorRoles.Ops)
                || context.Resource is HttpContext http && FromScrapeNetwork(http, options)));
        return options;
    }

    /// <summary>Health probes and the scrape endpoint: neither traced nor rate limited.</summary>
    internal static bool IsOperational(PathString path) => path.StartsWithSegments("/health") || path.StartsWithSegments("/metrics");

    private static bool FromScrapeNetwork(HttpContext http, TelemetryOptions options)
    {
        var address = http.Connection.RemoteIpAddress;
        if (address is null) return false;
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        return options.ScrapeNetworks.Any(network => IPNetwork.Parse(network).Contains(address));
    }
}

/// <summary>
/// Samples every trace that starts with a request or a message, and none of the background chatter: a
/// client call that starts a trace of its own (Wolverine polling its tables, ServiceControl polling the
/// broker's management API) and ServiceControl's handling of heartbeats, whose sending is not traced.
/// </summary>
internal sealed class QuietBackgroundWork : Sampler
{
    private static readonly string ServiceControlMessages = ServiceControl.ServiceControlContract.Namespace + ".";

    public override SamplingResult ShouldSample(in SamplingParameters parameters) =>
        parameters.Kind == ActivityKind.Client || parameters.Name.StartsWith(ServiceControlMessages, StringComparison.Ordinal)
            ? new SamplingResult(SamplingDecision.Drop)
            : new SamplingResult(SamplingDecision.RecordAndSample);
}
