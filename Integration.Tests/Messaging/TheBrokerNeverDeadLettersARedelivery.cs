using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Conveyor.Hosting;
using Integration.Tests.Infrastructure;
using RabbitMQ.Client;

namespace Integration.Tests.Messaging;

/// <summary>
/// A consumer that dies holding messages (kill -9, OOM, a lost connection) hands them back to the queue. The
/// durable inbox already keeps every delivered message safe, so the broker must deliver them again, however often
/// that happens: never dead-letter them to <c>error</c> for being redelivered. RabbitMQ 3.x and 4.x need the
/// endpoint's queue declared differently for that (see BrokerDeliveryLimit); this runs on whatever broker the
/// tests have.
/// </summary>
public class TheBrokerNeverDeadLettersARedelivery : LedgerFixture
{
    private const string Probe = "it-redelivery";

    [Test]
    public async Task A_message_whose_consumer_died_five_times_is_still_in_its_queue_and_not_in_error()
    {
        // A queue declared exactly as the endpoint declared its own (arguments as the broker reports them).
        var arguments = await QueueArgumentsAsync(LedgerEndpoint.Queue);
        await Broker.DeleteAsync(Probe);
        await Broker.Channel.QueueDeclareAsync(Probe, durable: true, exclusive: false, autoDelete: false, arguments);
        var messageId = Guid.NewGuid().ToString();
        await Broker.Channel.BasicPublishAsync("", Probe, mandatory: true, new BasicProperties { MessageId = messageId, Persistent = true }, Encoding.UTF8.GetBytes("{}"));
        var errorBefore = await Broker.CountAsync(ConveyorEndpoint.ErrorQueue);

        for (var death = 0; death < 5; death++)
        {
            // Take the message without acknowledging it, then drop the connection: the consumer is gone.
            var consumer = await new ConnectionFactory { Uri = new Uri(TestEnvironment.RabbitMq), AutomaticRecoveryEnabled = false }.CreateConnectionAsync();
            var channel = await consumer.CreateChannelAsync();
            var taken = await TestEnvironment.Eventually(() => channel.BasicGetAsync(Probe, autoAck: false), m => m is not null, "the message to be delivered", TimeSpan.FromSeconds(10));
            Assert.That(taken!.BasicProperties.MessageId, Is.EqualTo(messageId));
            await consumer.AbortAsync();
            consumer.Dispose();
        }

        var again = await TestEnvironment.Eventually(() => Broker.Channel.BasicGetAsync(Probe, autoAck: true), m => m is not null, "the message to be delivered a sixth time", TimeSpan.FromSeconds(10));
        Assert.Multiple(async () =>
        {
            Assert.That(again!.BasicProperties.MessageId, Is.EqualTo(messageId));
            Assert.That(again.Redelivered, Is.True);
            Assert.That(await Broker.CountAsync(ConveyorEndpoint.ErrorQueue), Is.EqualTo(errorBefore), "nothing dead-lettered to error");
        });
        await Broker.DeleteAsync(Probe);
    }

    [Test]
    public async Task The_endpoint_declares_its_quorum_queue_with_the_delivery_limit_of_this_broker_version()
    {
        var (version, arguments) = (await BrokerVersionAsync(), await QueueArgumentsAsync(LedgerEndpoint.Queue));

        Assert.Multiple(() =>
        {
            Assert.That(arguments["x-queue-type"], Is.EqualTo("quorum"));
            if (BrokerDeliveryLimit.For(version) is { } limit) Assert.That(arguments["x-delivery-limit"], Is.EqualTo(limit), $"RabbitMQ {version}");
            else Assert.That(arguments.ContainsKey("x-delivery-limit"), Is.False, $"RabbitMQ {version} reads any x-delivery-limit as a real limit");
        });
    }

    private static HttpClient Management()
    {
        var amqp = new Uri(TestEnvironment.RabbitMq);
        var http = new HttpClient { BaseAddress = TestEnvironment.RabbitMqManagement };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(Uri.UnescapeDataString(amqp.UserInfo))));
        return http;
    }

    private static async Task<string> BrokerVersionAsync()
    {
        using var http = Management();
        return (await http.GetFromJsonAsync<JsonElement>("/api/overview")).GetProperty("rabbitmq_version").GetString()!;
    }

    private static async Task<Dictionary<string, object?>> QueueArgumentsAsync(string queue)
    {
        using var http = Management();
        var vhost = Uri.EscapeDataString(new Uri(TestEnvironment.RabbitMq).AbsolutePath.Trim('/'));
        var details = await http.GetFromJsonAsync<JsonElement>($"/api/queues/{vhost}/{queue}");
        return details.GetProperty("arguments").EnumerateObject().ToDictionary(
            a => a.Name,
            a => a.Value.ValueKind == JsonValueKind.Number ? (object?)a.Value.GetInt32() : a.Value.GetString());
    }
}
