using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Serilog;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;

namespace Conveyor.Hosting;

/// <summary>
/// One JSON object per line in Elastic Common Schema (ECS 8.11): what Filebeat or the OpenTelemetry
/// Collector ships to Elasticsearch unchanged. Written here because Elastic's ECS formatter for Serilog is
/// not among the packages this project can use; it covers the fields Conveyor's logs need.
/// </summary>
public sealed class EcsJsonFormatter(string endpoint) : ITextFormatter
{
    public const string OrderIdProperty = "OrderId";
    public const string MessageIdProperty = "MessageId";

    // Written as ECS fields of their own; every other property goes into labels.
    private static readonly HashSet<string> OwnFields = ["SourceContext", OrderIdProperty, MessageIdProperty];

    // Log lines are read by people and shippers, never embedded in HTML: quotes stay quotes.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public void Format(LogEvent logEvent, TextWriter output)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("@timestamp", logEvent.Timestamp.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture));
            json.WriteString("log.level", logEvent.Level.ToString().ToLowerInvariant());
            json.WriteString("message", logEvent.RenderMessage(CultureInfo.InvariantCulture));
            json.WriteString("ecs.version", "8.11.0");
            json.WriteString("service.name", endpoint);
            json.WriteString("service.namespace", "conveyor");
            json.WriteString("service.instance.id", ConveyorTelemetry.InstanceId);
            json.WriteString("event.dataset", $"conveyor.{endpoint}");
            json.WriteNumber("process.pid", Environment.ProcessId);
            if (Scalar(logEvent, "SourceContext") is { } logger) json.WriteString("log.logger", logger);
            if (logEvent.TraceId is { } traceId) json.WriteString("trace.id", traceId.ToHexString());
            if (logEvent.SpanId is { } spanId) json.WriteString("span.id", spanId.ToHexString());
            if (Scalar(logEvent, OrderIdProperty) is { } orderId) json.WriteString("conveyor.order_id", orderId);
            if (Scalar(logEvent, MessageIdProperty) is { } messageId) json.WriteString("conveyor.message_id", messageId);
            if (logEvent.Exception is { } exception)
            {
                json.WriteString("error.type", exception.GetType().FullName);
                json.WriteString("error.message", exception.Message);
                json.WriteString("error.stack_trace", exception.ToString());
            }

            var labels = logEvent.Properties.Where(p => !OwnFields.Contains(p.Key)).ToList();
            if (labels.Count > 0)
            {
                json.WriteStartObject("labels");
                foreach (var (name, value) in labels) json.WriteString(name, value is ScalarValue { Value: var raw } ? Convert.ToString(raw, CultureInfo.InvariantCulture) : value.ToString());
                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        output.Write(Encoding.UTF8.GetString(buffer.WrittenSpan));
        output.Write('\n');
    }

    private static string? Scalar(LogEvent logEvent, string name) =>
        logEvent.Properties.TryGetValue(name, out var value) && value is ScalarValue { Value: { } raw } ? Convert.ToString(raw, CultureInfo.InvariantCulture) : null;
}

/// <summary>
/// Puts the order and the message being handled on every log line written while handling it (or while
/// serving the request that placed the order): read from the current span and its in-process parents,
/// where <see cref="MessageTelemetry"/>, Wolverine and the Orders API put them.
/// </summary>
public sealed class OrderAndMessageEnricher : ILogEventEnricher
{
    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        string? orderId = null;
        string? messageId = null;
        for (var span = Activity.Current; span is not null && (orderId is null || messageId is null); span = span.Parent)
        {
            orderId ??= span.GetTagItem(ConveyorTelemetry.OrderIdAttribute) as string;
            messageId ??= span.GetTagItem("messaging.message_id")?.ToString();
        }

        if (orderId is not null) logEvent.AddPropertyIfAbsent(propertyFactory.CreateProperty(EcsJsonFormatter.OrderIdProperty, orderId));
        if (messageId is not null) logEvent.AddPropertyIfAbsent(propertyFactory.CreateProperty(EcsJsonFormatter.MessageIdProperty, messageId));
    }
}

/// <summary>How every host logs.</summary>
public static class ConveyorLogging
{
    /// <summary>ECS JSON on stdout (and OTLP logs when an exporter is configured), one line per handled message.</summary>
    internal static void AddConveyorLogging(this WebApplicationBuilder builder, string endpoint, TelemetryOptions telemetry, BrokerDeliveryLimit deliveryLimit)
    {
        builder.Services.AddSerilog((services, logger) =>
        {
            logger
            .ReadFrom.Configuration(builder.Configuration)
            // Wolverine warns at every start that a quorum queue declared without x-delivery-limit is limited to 20
            // redeliveries: true on RabbitMQ 4, where the queue is declared with -1 and the warning never comes; on
            // RabbitMQ 3.x, where no argument means no limit, it would send an operator after a problem that is not there.
            .Filter.ByExcluding(e => deliveryLimit.IsUnlimitedWithoutArgument
                && e.MessageTemplate.Text.Contains("which Wolverine declared without an x-delivery-limit", StringComparison.Ordinal))
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.EntityFrameworkCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Extensions.Diagnostics.HealthChecks", LogEventLevel.Warning)
            .MinimumLevel.Override("Wolverine.Runtime.WolverineRuntime", LogEventLevel.Warning)
            .Enrich.FromLogContext()
            .Enrich.With<OrderAndMessageEnricher>()
            // ECS JSON on stdout, one object per line: the shipper (deploy/otel-collector) sends it to Elasticsearch.
            .WriteTo.Console(new EcsJsonFormatter(endpoint));
            if (telemetry.OtlpEndpoint is { } otlp)
            {
                logger.WriteTo.OpenTelemetry(sink =>
                {
                    sink.Endpoint = new Uri(otlp, "v1/logs").ToString();
                    sink.Protocol = Serilog.Sinks.OpenTelemetry.OtlpProtocol.HttpProtobuf;
                    sink.ResourceAttributes["service.name"] = endpoint;
                    sink.ResourceAttributes["service.namespace"] = "conveyor";
                    sink.ResourceAttributes["service.instance.id"] = ConveyorTelemetry.InstanceId;
                });
            }
        });
    }
}
