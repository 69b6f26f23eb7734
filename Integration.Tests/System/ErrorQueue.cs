using System.Text;
using Conveyor.Hosting;
using Integration.Tests.Infrastructure;
using RabbitMQ.Client;

namespace Integration.Tests.System;

/// <summary>
/// What has landed in the <c>error</c> queue of the test vhost. Messages are taken as they arrive and kept
/// here, so each test finds its own among everything that failed.
/// </summary>
public sealed class ErrorQueue(Broker broker)
{
    private readonly List<BasicGetResult> _seen = [];

    public async Task<BasicGetResult> WaitForAsync(Func<BasicGetResult, bool> match, string what, TimeSpan? timeout = null)
    {
        var found = await TestEnvironment.Eventually(async () =>
        {
            _seen.AddRange(await broker.DrainAsync(ConveyorEndpoint.ErrorQueue));
            return _seen.FirstOrDefault(match);
        }, m => m is not null, what, timeout);
        return found!;
    }

    public async Task<IReadOnlyList<BasicGetResult>> AllAsync()
    {
        _seen.AddRange(await broker.DrainAsync(ConveyorEndpoint.ErrorQueue));
        return _seen;
    }

    public static string? Header(BasicGetResult message, string name) =>
        message.BasicProperties.Headers?.TryGetValue(name, out var value) == true
            ? value switch { byte[] bytes => Encoding.UTF8.GetString(bytes), null => null, _ => value.ToString() }
            : null;

    public static bool IsFor(BasicGetResult message, Guid orderId) => message.BasicProperties.CorrelationId == orderId.ToString();
}
