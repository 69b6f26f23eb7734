using System.Text;
using Conveyor.Hosting;
using Conveyor.Topology;
using Integration.Tests.Infrastructure;
using Integration.Tests.ServiceControl;

namespace Integration.Tests.System;

/// <summary>
/// Many failed messages published straight into <c>error</c>, each unique, all sharing an exception type of
/// this run only, so what ServiceControl stored of them can be counted exactly.
/// </summary>
public sealed class FailureBurst
{
    private FailureBurst(string run, int count)
    {
        ExceptionType = $"Tests.SimulatedFailure{run}";
        MessageType = $"Tests.Burst{run}";
        Count = count;
    }

    public string ExceptionType { get; }

    /// <summary>This burst's own message type: grouped by message type, the burst is one group.</summary>
    public string MessageType { get; }

    public int Count { get; }

    /// <summary>
    /// Publishes <paramref name="count"/> failures as Payments dead-letters them (its broker user, its queue), each with
    /// an exception message of its own (grouped by exception message, each is a group) and, if asked, a body of
    /// about <paramref name="bodyBytes"/>.
    /// </summary>
    public static async Task<FailureBurst> PublishAsync(int count, int bodyBytes = 0)
    {
        var burst = new FailureBurst(Guid.NewGuid().ToString("N"), count);
        var padding = new string('p', bodyBytes);
        await using var payments = await Broker.ConnectAsAsync(SystemTopology.Payments);
        for (var i = 0; i < count; i++)
        {
            await payments.PublishAsync(ConveyorEndpoint.ErrorQueue,
                FailedMessages.Failure(Guid.NewGuid().ToString(), burst.MessageType, burst.ExceptionType, burst.ExceptionMessage(i), SystemTopology.Payments.Queue, DateTimeOffset.UtcNow),
                Encoding.UTF8.GetBytes($"{{\"number\":{i},\"padding\":\"{padding}\"}}"));
        }

        return burst;
    }

    public string ExceptionMessage(int number) => $"simulated failure {number} of {MessageType}";

    public async Task<(long Messages, long Failures, long MaxFailureCount)> StoredAsync() =>
    (
        await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select count(*) from failed_messages where exception_type = @t", ("t", ExceptionType)),
        await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select count(*) from failures where exception_type = @t", ("t", ExceptionType)),
        await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select coalesce(max(failure_count), 0)::bigint from failed_messages where exception_type = @t", ("t", ExceptionType))
    );
}
