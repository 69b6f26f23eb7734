using System.Text;
using Conveyor.Hosting;
using Integration.Tests.Infrastructure;
using RabbitMQ.Client;

namespace Integration.Tests.System;

/// <summary>
/// Many failed messages published straight into <c>error</c>, each unique, all sharing an exception type of
/// this run only, so what ServiceControl stored of them can be counted exactly.
/// </summary>
public sealed class FailureBurst
{
    private FailureBurst(string exceptionType, int count)
    {
        ExceptionType = exceptionType;
        Count = count;
    }

    public string ExceptionType { get; }
    public int Count { get; }

    public static async Task<FailureBurst> PublishAsync(int count, string queue = "nowhere")
    {
        var burst = new FailureBurst($"Tests.SimulatedFailure{Guid.NewGuid():N}", count);
        await using var broker = await Broker.ConnectAsync();
        await using var channel = await BrokerChannels.ConfirmingAsync(broker);
        for (var i = 0; i < count; i++)
        {
            await channel.BasicPublishAsync("", ConveyorEndpoint.ErrorQueue, mandatory: true, burst.Failure(i, queue), Encoding.UTF8.GetBytes($"{{\"number\":{i}}}"));
        }

        return burst;
    }

    public BasicProperties Failure(int number, string queue) => new()
    {
        MessageId = Guid.NewGuid().ToString(),
        Type = "Tests.Burst",
        ContentType = "application/json",
        Persistent = true,
        Headers = new Dictionary<string, object?>
        {
            ["exception-type"] = Encoding.UTF8.GetBytes(ExceptionType),
            ["exception-message"] = Encoding.UTF8.GetBytes($"simulated failure {number}"),
            ["exception-stack"] = Encoding.UTF8.GetBytes("   at Tests.Burst.Fail()"),
            [FailureHeaders.Queue] = Encoding.UTF8.GetBytes($"rabbitmq://queue/{queue}"),
            [FailureHeaders.Endpoint] = Encoding.UTF8.GetBytes("tests"),
            [FailureHeaders.LastFailureAt] = Encoding.UTF8.GetBytes(DateTimeOffset.UtcNow.ToString("O")),
        },
    };

    public async Task<(long Messages, long Failures, long MaxFailureCount)> StoredAsync() =>
    (
        await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select count(*) from failed_messages where exception_type = @t", ("t", ExceptionType)),
        await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select count(*) from failures where exception_type = @t", ("t", ExceptionType)),
        await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select coalesce(max(failure_count), 0)::bigint from failed_messages where exception_type = @t", ("t", ExceptionType))
    );
}

public static class BrokerChannels
{
    /// <summary>A channel whose publishes return once the broker has the message (publisher confirms).</summary>
    public static async Task<IChannel> ConfirmingAsync(Broker broker) =>
        await broker.Connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
}
