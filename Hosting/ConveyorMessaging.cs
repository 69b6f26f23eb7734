using Wolverine;
using Wolverine.RabbitMQ;
using Wolverine.RabbitMQ.Internal;

namespace Conveyor.Hosting;

/// <summary>
/// What an endpoint publishes and what it subscribes to. Every event type has its own fanout exchange,
/// named after the type; the publisher sends to it and each subscriber binds its own queue to it, so a
/// new subscriber never needs a change in the publisher.
/// </summary>
public sealed class ConveyorMessaging
{
    private readonly List<string> _subscriptions = [];

    internal ConveyorMessaging(WolverineOptions wolverine) => Wolverine = wolverine;

    /// <summary>The underlying Wolverine options, for the rare endpoint-specific setting.</summary>
    public WolverineOptions Wolverine { get; }

    internal IReadOnlyList<string> Subscriptions => _subscriptions;

    /// <summary>This endpoint publishes <typeparamref name="TEvent"/> to its exchange.</summary>
    public ConveyorMessaging Publishes<TEvent>()
    {
        Wolverine.PublishMessage<TEvent>().ToRabbitExchange(ExchangeFor<TEvent>());
        return this;
    }

    /// <summary>This endpoint sends the command <typeparamref name="TCommand"/> straight to the queue of the endpoint that owns it.</summary>
    public ConveyorMessaging Sends<TCommand>(string to)
    {
        // The queue belongs to the endpoint that listens on it, which declares it (quorum, dead-lettering):
        // a sender declaring it too, with other arguments, would fail with PRECONDITION_FAILED.
        Wolverine.PublishMessage<TCommand>().ToRabbitQueue(to, queue =>
        {
            if (queue is RabbitMqEndpoint endpoint) endpoint.IsExternallyOwned = true;
        });
        return this;
    }

    /// <summary>This endpoint's queue receives every <typeparamref name="TEvent"/> published by anyone.</summary>
    public ConveyorMessaging SubscribesTo<TEvent>()
    {
        _subscriptions.Add(ExchangeFor<TEvent>());
        return this;
    }

    /// <summary>The exchange an event type is published to: the type's name, e.g. <c>OrderPlaced</c>.</summary>
    public static string ExchangeFor<TEvent>() => ExchangeFor(typeof(TEvent));

    public static string ExchangeFor(Type eventType) => eventType.Name;
}
