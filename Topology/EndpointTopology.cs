namespace Conveyor.Topology;

/// <summary>What a process is written in, which says how it is built, started and packaged.</summary>
public enum Runtime
{
    /// <summary>A .NET project (<c>.csproj</c>): built with the solution, started as <c>dotnet &lt;its dll&gt;</c>.</summary>
    DotNet,

    /// <summary>A Node.js package (<c>package.json</c>): installed with <c>npm ci</c>, started as <c>node &lt;its main&gt;</c>.</summary>
    Node,
}

/// <summary>A process a local run starts: its name, its project and the port it answers HTTP on.</summary>
public class ProcessTopology
{
    public required string Name { get; init; }

    public Runtime Runtime { get; init; } = Runtime.DotNet;

    /// <summary>The HTTP port of a local run (<c>./build.sh up</c>); the tests add <see cref="TestPortOffset"/>.</summary>
    public required int Port { get; init; }

    /// <summary>The project file (<c>.csproj</c>, or <c>package.json</c> for Node), from the repository root.</summary>
    public required string Project { get; init; }

    /// <summary>Test processes run beside a local run, on these ports plus this.</summary>
    public const int TestPortOffset = 10_000;

    public int TestPort => Port + TestPortOffset;

    public override string ToString() => Name;
}

/// <summary>
/// An endpoint: a process with a queue, a database, a database role and a broker user of its own, all named
/// after it, and what it publishes, sends, subscribes to and receives.
/// </summary>
public sealed class EndpointTopology : ProcessTopology
{
    public string Queue => Name;

    public string Database => Name;

    public string DatabaseRole => Name;

    public string BrokerUser => Name;

    /// <summary>Events it publishes, to their exchanges.</summary>
    public IReadOnlyList<Type> Publishes { get; init; } = [];

    /// <summary>Commands it sends, to their exchanges, which only the receiving endpoint's queue is bound to.</summary>
    public IReadOnlyList<Type> Sends { get; init; } = [];

    /// <summary>Events it subscribes to: its queue is bound to their exchanges.</summary>
    public IReadOnlyList<Type> SubscribesTo { get; init; } = [];

    /// <summary>Commands it receives: its queue is bound to their exchanges, and only its.</summary>
    public IReadOnlyList<Type> Receives { get; init; } = [];

    /// <summary>Queues besides its own it reads (ServiceControl: <c>error</c>).</summary>
    public IReadOnlyList<string> ReadsQueues { get; init; } = [];

    /// <summary>Whether it puts failed messages back into the queue they failed in (ServiceControl's retries).</summary>
    public bool SendsRetries { get; init; }

    /// <summary>Whether it talks to the SMTP server (its network policy, its compose network, its SMTP settings).</summary>
    public bool SendsMail { get; init; }

    public bool IsServiceControl => this == SystemTopology.ServiceControl;

    /// <summary>The exchanges it writes to: those of what it publishes and sends, and the platform commands every endpoint sends.</summary>
    public IReadOnlyList<string> ExchangesWritten =>
        [.. Publishes.Concat(Sends).Select(SystemTopology.ExchangeFor).Concat(SystemTopology.PlatformCommands).Order(StringComparer.Ordinal)];

    /// <summary>The exchanges its queue is bound to: those of what it subscribes to and receives (ServiceControl: the platform commands).</summary>
    public IReadOnlyList<string> ExchangesRead =>
        [.. SubscribesTo.Concat(Receives).Select(SystemTopology.ExchangeFor).Concat(IsServiceControl ? SystemTopology.PlatformCommands : []).Order(StringComparer.Ordinal)];
}
