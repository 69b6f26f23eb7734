using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Integration.Tests.Infrastructure;

/// <summary>Direct access to the test vhost, for what a test must see or do behind the framework's back.</summary>
public sealed class Broker(IConnection connection, IChannel channel) : IAsyncDisposable
{
    public IChannel Channel { get; } = channel;

    public IConnection Connection { get; } = connection;

    public static async Task<Broker> ConnectAsync()
    {
        var connection = await new ConnectionFactory { Uri = new Uri(TestEnvironment.RabbitMq), ClientProvidedName = "integration-tests" }
            .CreateConnectionAsync();
        return new Broker(connection, await connection.CreateChannelAsync());
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
