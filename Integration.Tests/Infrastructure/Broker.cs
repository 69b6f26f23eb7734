using Conveyor.Topology;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Integration.Tests.Infrastructure;

/// <summary>
/// Direct access to the test vhost, for what a test must see or do behind the framework's back: as the operator's
/// user (<see cref="ConnectAsync"/>), or as an endpoint with its own user and rights (<see cref="ConnectAsAsync"/>).
/// </summary>
public sealed class Broker(IConnection connection, IChannel channel, string user) : IAsyncDisposable
{
    public IChannel Channel { get; } = channel;

    public IConnection Connection { get; } = connection;

    /// <summary>The broker user this connection is, which is what the broker lets it put into <c>user_id</c>.</summary>
    public string User { get; } = user;

    public static Task<Broker> ConnectAsync() => ConnectAsync(TestEnvironment.RabbitMq, "integration-tests");

    /// <summary>Connected as <paramref name="endpoint"/>'s broker user, with its password and nothing but its rights.</summary>
    public static Task<Broker> ConnectAsAsync(EndpointTopology endpoint) => ConnectAsync(TestEnvironment.RabbitMqFor(endpoint), $"integration-tests-as-{endpoint.Name}");

    private static async Task<Broker> ConnectAsync(string uri, string name)
    {
        var address = new Uri(uri);
        var connection = await new ConnectionFactory { Uri = address, ClientProvidedName = name }.CreateConnectionAsync();
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        return new Broker(connection, channel, Uri.UnescapeDataString(address.UserInfo.Split(':')[0]));
    }

    /// <summary>
    /// Publishes as an endpoint does: to the exchange named after the message type (or <c>error</c>), stamped with
    /// this connection's user in <c>user_id</c>, and returns once the broker has it (publisher confirms).
    /// </summary>
    public async Task PublishAsync(string exchange, BasicProperties properties, ReadOnlyMemory<byte> body)
    {
        properties.UserId = User;
        await Channel.BasicPublishAsync(exchange, "", mandatory: true, properties, body);
    }

    public async Task<uint> CountAsync(string queue) => (await Channel.QueueDeclarePassiveAsync(queue)).MessageCount;

    /// <summary>Empties the queues that exist; a queue not declared yet is already empty.</summary>
    public async Task PurgeAsync(params string[] queues)
    {
        foreach (var queue in queues)
        {
            // A channel of its own: the broker closes a channel that touches a missing queue.
            await using var purging = await Connection.CreateChannelAsync();
            try { await purging.QueuePurgeAsync(queue); }
            catch (OperationInterruptedException) { }
        }
    }

    /// <summary>Deletes the queues that exist, so the endpoint under test declares them afresh.</summary>
    public async Task DeleteAsync(params string[] queues)
    {
        foreach (var queue in queues)
        {
            await using var deleting = await Connection.CreateChannelAsync();
            try { await deleting.QueueDeleteAsync(queue); }
            catch (OperationInterruptedException) { }
        }
    }

    /// <summary>Takes every message currently in <paramref name="queue"/>.</summary>
    public async Task<List<BasicGetResult>> DrainAsync(string queue)
    {
        var taken = new List<BasicGetResult>();
        while (await Channel.BasicGetAsync(queue, autoAck: true) is { } message) taken.Add(message);
        return taken;
    }

    public async ValueTask DisposeAsync()
    {
        await Channel.DisposeAsync();
        await Connection.DisposeAsync();
    }
}
