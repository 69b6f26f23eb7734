using Conveyor.Topology;
using System.Diagnostics;
using System.Text.Json;
using Conveyor.Hosting;
using Serilog.Events;
using Serilog.Parsing;

namespace Handlers.Tests.Hosting;

/// <summary>The ECS formatter alone: what one log line holds, and that the shipping configuration in deploy/ reads those fields.</summary>
public class LogLinesAreEcsJson
{
    private static JsonElement Format(LogEvent logEvent)
    {
        using var output = new StringWriter();
        new EcsJsonFormatter(SystemTopology.Payments.Name).Format(logEvent, output);
        var text = output.ToString();
        Assert.That(text.IndexOf('\n'), Is.EqualTo(text.Length - 1), "one line per event");
        return JsonDocument.Parse(text).RootElement;
    }

    private static LogEvent Event(string template, LogEventLevel level = LogEventLevel.Information, Exception? exception = null, params LogEventProperty[] properties)
    {
        var traceId = ActivityTraceId.CreateFromString("0af7651916cd43dd8448eb211c80319c");
        var spanId = ActivitySpanId.CreateFromString("b7ad6b7169203331");
        return new LogEvent(new DateTimeOffset(2026, 11, 27, 14, 30, 0, TimeSpan.Zero), level, exception, new MessageTemplateParser().Parse(template), properties, traceId, spanId);
    }

    [Test]
    public void A_line_written_while_handling_a_message_has_the_ecs_fields_trace_order_and_message()
    {
        var line = Format(Event("Charged {Amount} for order {OrderId}", properties:
        [
            new LogEventProperty("Amount", new ScalarValue(42.5m)),
            new LogEventProperty(EcsJsonFormatter.OrderIdProperty, new ScalarValue("01a21d61-6742-7b22-8b6b-d0f2180d16dd")),
            new LogEventProperty(EcsJsonFormatter.MessageIdProperty, new ScalarValue("08df4c91-a4c6-132b-9e9d-c73388770000")),
            new LogEventProperty("SourceContext", new ScalarValue("Conveyor.Messages.OrderPlaced")),
        ]));

        Assert.Multiple(() =>
        {
            Assert.That(line.GetProperty("@timestamp").GetString(), Is.EqualTo("2026-11-27T14:30:00.0000000Z"));
            Assert.That(line.GetProperty("log.level").GetString(), Is.EqualTo("information"));
            Assert.That(line.GetProperty("message").GetString(), Is.EqualTo("Charged 42.5 for order \"01a21d61-6742-7b22-8b6b-d0f2180d16dd\""));
            Assert.That(line.GetProperty("ecs.version").GetString(), Is.EqualTo("8.11.0"));
            Assert.That(line.GetProperty("service.name").GetString(), Is.EqualTo(SystemTopology.Payments.Name));
            Assert.That(line.GetProperty("service.namespace").GetString(), Is.EqualTo("conveyor"));
            Assert.That(line.GetProperty("event.dataset").GetString(), Is.EqualTo("conveyor.payments"));
            Assert.That(line.GetProperty("log.logger").GetString(), Is.EqualTo("Conveyor.Messages.OrderPlaced"));
            Assert.That(line.GetProperty("trace.id").GetString(), Is.EqualTo("0af7651916cd43dd8448eb211c80319c"));
            Assert.That(line.GetProperty("span.id").GetString(), Is.EqualTo("b7ad6b7169203331"));
            Assert.That(line.GetProperty("conveyor.order_id").GetString(), Is.EqualTo("01a21d61-6742-7b22-8b6b-d0f2180d16dd"));
            Assert.That(line.GetProperty("conveyor.message_id").GetString(), Is.EqualTo("08df4c91-a4c6-132b-9e9d-c73388770000"));
            Assert.That(line.GetProperty("labels").GetProperty("Amount").GetString(), Is.EqualTo("42.5"));
            Assert.That(line.GetProperty("labels").TryGetProperty(EcsJsonFormatter.OrderIdProperty, out _), Is.False, "the order id is a field of its own, not a label");
        });
    }

    [Test]
    public void An_exception_becomes_the_ecs_error_fields()
    {
        Exception thrown;
        try
        {
            throw new InvalidOperationException("The payment provider is unavailable");
        }
        catch (InvalidOperationException ex)
        {
            thrown = ex;
        }

        var line = Format(Event("Failed to process message", LogEventLevel.Error, thrown));

        Assert.Multiple(() =>
        {
            Assert.That(line.GetProperty("log.level").GetString(), Is.EqualTo("error"));
            Assert.That(line.GetProperty("error.type").GetString(), Is.EqualTo("System.InvalidOperationException"));
            Assert.That(line.GetProperty("error.message").GetString(), Is.EqualTo("The payment provider is unavailable"));
            Assert.That(line.GetProperty("error.stack_trace").GetString(), Does.Contain(nameof(An_exception_becomes_the_ecs_error_fields)));
        });
    }

    [Test]
    public void The_kibana_search_and_the_filebeat_filter_use_fields_the_lines_have()
    {
        var root = Path.GetDirectoryName(typeof(LogLinesAreEcsJson).Assembly.Location)!;
        while (!File.Exists(Path.Combine(root, "Conveyor.slnx"))) root = Path.GetDirectoryName(root)!;
        var written = Format(Event("x", properties:
        [
            new LogEventProperty(EcsJsonFormatter.OrderIdProperty, new ScalarValue("o")),
            new LogEventProperty(EcsJsonFormatter.MessageIdProperty, new ScalarValue("m")),
        ])).EnumerateObject().Select(p => p.Name).ToHashSet();

        var savedObjects = File.ReadLines(Path.Combine(root, "deploy", "kibana", "conveyor-saved-objects.ndjson")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var search = savedObjects.Single(o => o.GetProperty("type").GetString() == "search").GetProperty("attributes");
        var columns = search.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToList();
        var query = JsonDocument.Parse(search.GetProperty("kibanaSavedObjectMeta").GetProperty("searchSourceJSON").GetString()!).RootElement.GetProperty("query").GetProperty("query").GetString();
        var filebeat = File.ReadAllText(Path.Combine(root, "deploy", "filebeat", "filebeat.yml"));

        Assert.Multiple(() =>
        {
            Assert.That(columns, Is.SubsetOf(written), "every column of the saved search is a field of the log lines");
            Assert.That(query, Does.StartWith("conveyor.order_id"), "the saved search finds one order's lines");
            Assert.That(written, Does.Contain("@timestamp"), "the data view's time field");
            Assert.That(filebeat, Does.Contain("service.namespace: conveyor"), "Filebeat keeps Conveyor's lines by a field they all have");
            Assert.That(written, Does.Contain("service.namespace"));
        });
    }
}
