using Conveyor.Messages;

namespace Conveyor.Topology;

/// <summary>
/// The system, declared once. Every endpoint is a process with a queue, a database, a database role and a broker
/// user of its own, all named after it, and an HTTP port; it publishes events, sends commands to the one endpoint
/// that receives them, and subscribes to events. Every message type travels through a fanout exchange named after
/// it: the publisher or sender writes to that exchange, each subscriber (or the command's receiver) binds its own
/// queue to it, so nobody ever needs the default exchange and a new subscriber never touches the publisher.
/// </summary>
public static class SystemTopology
{
    /// <summary>Where every endpoint's failed messages end; only ServiceControl reads it.</summary>
    public const string ErrorQueue = "error";

    /// <summary>Where every endpoint sends a copy of each message it handled (unless its auditing is off); only ServiceControl reads it.</summary>
    public const string AuditQueue = "audit";

    /// <summary>The queues every endpoint writes to and ServiceControl alone reads, each behind a fanout exchange of its name.</summary>
    public static readonly IReadOnlyList<string> PlatformQueues = [ErrorQueue, AuditQueue];

    /// <summary>
    /// What every endpoint sends to ServiceControl beside its business messages: its heartbeats and the confirmation of
    /// a message ServiceControl retried. Named, not typed: the types are the shared hosting library's.
    /// </summary>
    public static readonly IReadOnlyList<string> PlatformCommands = ["EndpointHeartbeat", "RetrySucceeded"];

    public static readonly EndpointTopology Orders = new()
    {
        Name = "orders",
        Port = 5080,
        Project = "Endpoints/Orders/Conveyor.Orders.csproj",
        Publishes = [typeof(OrderPlaced), typeof(OrderConfirmed), typeof(OrderCancelled)],
        Sends = [typeof(RefundPayment)],
        SubscribesTo = [typeof(PaymentAuthorized), typeof(PaymentDeclined), typeof(PaymentRefunded), typeof(StockReserved), typeof(StockUnavailable), typeof(StockReleased)],
    };

    public static readonly EndpointTopology Payments = new()
    {
        Name = "payments",
        Port = 5081,
        Project = "Endpoints/Payments/Conveyor.Payments.csproj",
        Publishes = [typeof(PaymentAuthorized), typeof(PaymentDeclined), typeof(PaymentRefunded)],
        Receives = [typeof(RefundPayment)],
        SubscribesTo = [typeof(OrderPlaced), typeof(OrderCancelled)],
    };

    public static readonly EndpointTopology Notifications = new()
    {
        Name = "notifications",
        Port = 5082,
        Project = "Endpoints/Notifications/Conveyor.Notifications.csproj",
        SubscribesTo = [typeof(OrderPlaced), typeof(OrderConfirmed), typeof(OrderCancelled), typeof(PaymentRefunded)],
        SendsMail = true,
    };

    /// <summary>Inventory, in Node.js: holds the stock of an order's lines until it is confirmed (a sale) or cancelled (released).</summary>
    public static readonly EndpointTopology Inventory = new()
    {
        Name = "inventory",
        Port = 5083,
        Runtime = Runtime.Node,
        Project = "Endpoints/Inventory/package.json",
        Publishes = [typeof(StockReserved), typeof(StockUnavailable), typeof(StockReleased)],
        SubscribesTo = [typeof(OrderPlaced), typeof(OrderCancelled), typeof(OrderConfirmed)],
    };

    /// <summary>
    /// ServiceControl: an endpoint too (its own queue receives the platform commands), and the one reader of
    /// <c>error</c>, and the one sender trusted to put a message back into any endpoint's queue (a retry).
    /// </summary>
    public static readonly EndpointTopology ServiceControl = new()
    {
        Name = "servicecontrol",
        Port = 5090,
        Project = "ServiceControl/Conveyor.ServiceControl.csproj",
        ReadsQueues = PlatformQueues,
        SendsRetries = true,
    };

    /// <summary>The endpoints that carry the orders' business (ServiceControl aside).</summary>
    public static readonly IReadOnlyList<EndpointTopology> BusinessEndpoints = [Orders, Payments, Notifications, Inventory];

    /// <summary>Every endpoint, ServiceControl included: each has a queue, a database and a broker user.</summary>
    public static readonly IReadOnlyList<EndpointTopology> Endpoints = [.. BusinessEndpoints, ServiceControl];

    /// <summary>Development only: the local OpenID Connect provider that serves the Keycloak realm where Keycloak cannot run.</summary>
    public static readonly ProcessTopology IdentityProvider = new()
    {
        Name = "identity",
        Port = 5070,
        Project = "tools/IdentityProvider/Conveyor.IdentityProvider.csproj",
    };

    /// <summary>Every process a local run starts, in the order it starts them.</summary>
    public static readonly IReadOnlyList<ProcessTopology> Processes = [.. Endpoints, IdentityProvider];

    /// <summary>Every business message type of the system, each once.</summary>
    public static IReadOnlyList<Type> MessageTypes =>
        BusinessEndpoints.SelectMany(e => e.Publishes.Concat(e.Sends).Concat(e.SubscribesTo).Concat(e.Receives)).Distinct().OrderBy(t => t.Name).ToList();

    /// <summary>"event" or "command", as the type declares itself (<see cref="IEvent"/>, <see cref="ICommand"/>).</summary>
    public static string KindOf(Type messageType) =>
        typeof(IEvent).IsAssignableFrom(messageType) ? "event" : typeof(ICommand).IsAssignableFrom(messageType) ? "command" : "message";

    /// <summary>The exchange a message type travels through: its name, e.g. <c>OrderPlaced</c>.</summary>
    public static string ExchangeFor(Type messageType) => messageType.Name;

    /// <summary>Every exchange of the system: one per message type, the platform commands', <c>error</c>'s and <c>audit</c>'s.</summary>
    public static IReadOnlyList<string> Exchanges =>
        [.. MessageTypes.Select(ExchangeFor).Concat(PlatformCommands).Order(StringComparer.Ordinal), .. PlatformQueues];

    /// <summary>The endpoints whose broker users may put <paramref name="messageType"/> on the broker: its publisher or its sender.</summary>
    public static IReadOnlyList<EndpointTopology> SendersOf(Type messageType) =>
        BusinessEndpoints.Where(e => e.Publishes.Contains(messageType) || e.Sends.Contains(messageType)).ToList();

    /// <summary>The endpoint that declares <paramref name="name"/> as its queue, if any.</summary>
    public static EndpointTopology? OwnerOfQueue(string? name) => Endpoints.FirstOrDefault(e => e.Queue == name);

    /// <summary>
    /// What would make the declaration wrong: an event sent rather than published, a command without exactly one
    /// sender and one receiver, something subscribed to that nobody publishes, or a message type in
    /// <c>Messages</c> that no endpoint declares. A test asserts there is none.
    /// </summary>
    public static IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        foreach (var type in MessageTypes)
        {
            var publishers = BusinessEndpoints.Count(e => e.Publishes.Contains(type));
            var senders = BusinessEndpoints.Count(e => e.Sends.Contains(type));
            var subscribers = BusinessEndpoints.Count(e => e.SubscribesTo.Contains(type));
            var receivers = BusinessEndpoints.Count(e => e.Receives.Contains(type));
            switch (KindOf(type))
            {
                case "event" when senders + receivers > 0:
                    problems.Add($"{type.Name} is an event: it is published and subscribed to, not sent or received.");
                    break;
                case "event" when publishers != 1:
                    problems.Add($"{type.Name} has {publishers} publishers; an event has exactly one.");
                    break;
                case "command" when publishers + subscribers > 0 || senders != 1 || receivers != 1:
                    problems.Add($"{type.Name} is a command: exactly one endpoint sends it and exactly one receives it.");
                    break;
                case "message":
                    problems.Add($"{type.Name} is neither an IEvent nor an ICommand.");
                    break;
            }
        }

        var declared = MessageTypes.ToHashSet();
        problems.AddRange(MessageJson.MessageTypes.Where(t => !declared.Contains(t)).Select(t => $"{t.Name} is in Messages but no endpoint publishes, sends, subscribes to or receives it."));
        return problems;
    }

    public static EndpointTopology Named(string name) => Endpoints.Single(e => e.Name == name);
}
