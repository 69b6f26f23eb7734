using System.Text.RegularExpressions;

namespace Conveyor.Topology;

/// <summary>
/// What an endpoint's broker user may do, derived from what it publishes, sends, subscribes to and receives
/// (RabbitMQ's three permissions, each a regular expression over resource names):
/// <list type="bullet">
/// <item><b>configure</b> (declare, delete): its own queue only. Exchanges and <c>error</c> are declared once by the
/// broker definitions, so nobody needs to declare, and so nobody may delete, what others rely on.</item>
/// <item><b>write</b> (publish, and bind its queue): its own queue, the exchanges of what it publishes and sends,
/// <c>error</c> (dead letters) and <c>audit</c> (copies of what it handled). Never the default exchange, which reaches every queue — except for ServiceControl,
/// whose retries put a message back into the one queue it failed in.</item>
/// <item><b>read</b> (consume, purge, and bind from an exchange): its own queue and the exchanges of what it
/// subscribes to and receives; <c>error</c> and <c>audit</c> for ServiceControl alone.</item>
/// </list>
/// </summary>
public sealed record BrokerPermissions(string Configure, string Write, string Read)
{
    /// <summary>The default exchange's name in permission checks.</summary>
    public const string DefaultExchange = "amq.default";

    public static BrokerPermissions For(EndpointTopology endpoint) => new(
        Pattern([endpoint.Queue]),
        Pattern([endpoint.Queue, .. endpoint.ExchangesWritten, .. SystemTopology.PlatformQueues, .. endpoint.SendsRetries ? [DefaultExchange] : Array.Empty<string>()]),
        Pattern([endpoint.Queue, .. endpoint.ExchangesRead, .. endpoint.ReadsQueues]));

    /// <summary>The operator's user (management UI, local tests' direct broker access): everything.</summary>
    public static readonly BrokerPermissions Operator = new(".*", ".*", ".*");

    /// <summary><c>^(a|b|c)$</c> over the names, each escaped, sorted, once.</summary>
    private static string Pattern(IEnumerable<string> names) =>
        "^(" + string.Join('|', names.Distinct().Order(StringComparer.Ordinal).Select(Regex.Escape)) + ")$";
}
