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
    private FailureBurst(string exceptionType, int count)
    {
        ExceptionType = exceptionType;
        Count = count;
    }

    public string ExceptionType { get; }
    public int Count { get; }

    /// <summary>Publishes <paramref name="count"/> failures as Payments dead-letters them (its broker user, its queue).</summary>
    public static async Task<FailureBurst> PublishAsync(int count)
    {
        var burst = new FailureBurst($"Tests.SimulatedFailure{Guid.NewGuid():N}", count);
        await using var payments = await Broker.ConnectAsAsync(SystemTopology.Payments);
        for (var i = 0; i < count; i++)
        {
            await payments.PublishAsync(ConveyorEndpoint.ErrorQueue,
                FailedMessages.Failure(Guid.NewGuid().ToString(), "Tests.Burst", burst.ExceptionType, $"simulated failure {i}", SystemTopology.Payments.Queue, DateTimeOffset.UtcNow),
                Encoding.UTF8.GetBytes($"{{\"number\":{i}}}"));
        }

        return burst;
    }

    public async Task<(long Messages, long Failures, long MaxFailureCount)> StoredAsync() =>
    (
        await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select count(*) from failed_messages where exception_type = @t", ("t", ExceptionType)),
        await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select count(*) from failures where exception_type = @t", ("t", ExceptionType)),
        await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select coalesce(max(failure_count), 0)::bigint from failed_messages where exception_type = @t", ("t", ExceptionType))
    );
}
