using Conveyor.Hosting.ServiceControl;
using Conveyor.Topology;
using Wolverine;
using Wolverine.RabbitMQ.Internal;

namespace Conveyor.Hosting;

/// <summary>
/// Who put a message on the broker. Every endpoint stamps what it sends with its broker user in the AMQP
/// <c>user_id</c> property, which RabbitMQ refuses unless it is the user of the connection publishing it, so it
/// cannot be forged by anyone without that user's password. On receipt the property is copied into the envelope's
/// <see cref="SenderHeader"/>, replacing whatever header of that name the message arrived with.
/// </summary>
public static class BrokerIdentity
{
    /// <summary>The broker user that published the message, as the broker vouched for it.</summary>
    public const string SenderHeader = "conveyor-broker-user";

    /// <summary>The user an AMQP URI connects as.</summary>
    public static string UserOf(Uri broker) => Uri.UnescapeDataString(broker.UserInfo.Split(':')[0]);

    /// <summary>The sender the broker vouched for, or null for a message that did not come through the broker.</summary>
    public static string? SenderOf(Envelope envelope) => envelope.Headers.TryGetValue(SenderHeader, out var sender) ? sender : null;

    internal static void Stamp(RabbitMqEnvelopeMapper mapper, string brokerUser) =>
        // Riding on the content type's mapping, which every message has: Wolverine maps AMQP properties only
        // through mappings of envelope properties, and the envelope has none for the user id.
        mapper.MapProperty(e => e.ContentType!,
            (envelope, incoming) =>
            {
                envelope.ContentType = incoming.ContentType;
                if (string.IsNullOrEmpty(incoming.UserId)) envelope.Headers.Remove(SenderHeader);
                else envelope.Headers[SenderHeader] = incoming.UserId;
            },
            (envelope, outgoing) =>
            {
                outgoing.ContentType = envelope.ContentType;
                outgoing.UserId = brokerUser;
            });
}

/// <summary>A message whose sender the topology does not allow to send it: it changes nothing and goes to <c>error</c>.</summary>
public sealed class UntrustedSenderException(string message) : Exception(message);

/// <summary>
/// Wolverine middleware on every handler: a message that came through the broker is handled only when the broker
/// user that published it is one the topology allows to publish or send its type — or ServiceControl putting a
/// failed message back (<see cref="ServiceControlContract.RetryHeader"/>, or an operator's edited copy of one). Anything else is refused before the
/// handler runs, and ends in <c>error</c> with the reason. Messages of types the topology does not know (a test's
/// own endpoint) are not checked: no endpoint of the system handles them.
/// </summary>
public static class CheckTheSender
{
    public static void Before(Envelope envelope)
    {
        if (envelope.Destination?.Scheme != "rabbitmq" || envelope.Message is not { } message) return;

        var type = message.GetType();
        var allowed = SystemTopology.SendersOf(type).Select(e => e.BrokerUser).ToList();
        if (SystemTopology.PlatformCommands.Contains(type.Name)) allowed = [.. SystemTopology.Endpoints.Select(e => e.BrokerUser)];
        if (allowed.Count == 0) return;

        var sender = BrokerIdentity.SenderOf(envelope);
        if (sender is not null && allowed.Contains(sender)) return;
        if (sender == SystemTopology.ServiceControl.BrokerUser
            && (envelope.Headers.ContainsKey(ServiceControlContract.RetryHeader) || envelope.Headers.ContainsKey(ServiceControlContract.EditedFromHeader))) return;

        throw new UntrustedSenderException(sender is null
            ? $"{type.Name} {envelope.Id} came without a broker user (AMQP user_id); only {string.Join(" or ", allowed)} may send it. It was not handled."
            : $"{type.Name} {envelope.Id} was published by broker user '{sender}'; only {string.Join(" or ", allowed)} may send it. It was not handled.");
    }
}
