using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conveyor.Topology;

/// <summary>
/// The broker as the system needs it, in RabbitMQ's definitions format (what <c>rabbitmqctl import_definitions</c>
/// and <c>load_definitions</c> read): the vhost, a user per endpoint with the permissions of
/// <see cref="BrokerPermissions"/>, the operator's user, every exchange, and <c>error</c> and <c>audit</c> with their bindings. The
/// endpoints' own queues are not in it: each endpoint declares its queue itself, with the delivery limit its broker's
/// version needs (<c>Hosting/BrokerDeliveryLimit.cs</c>). Passwords are placeholders (<c>${CONVEYOR_ORDERS_BROKER_PASSWORD}</c>)
/// that whoever imports the file fills in from its secrets; the broker hashes them on import.
/// </summary>
public static class BrokerDefinitions
{
    /// <summary>The operator's user: the management UI, and the tests' direct access in a local run.</summary>
    public const string OperatorUser = "conveyor";

    public const string OperatorPasswordVariable = "CONVEYOR_BROKER_ADMIN_PASSWORD";

    /// <summary>The environment variable holding an endpoint user's password: <c>CONVEYOR_ORDERS_BROKER_PASSWORD</c>.</summary>
    public static string PasswordVariableOf(EndpointTopology endpoint) => $"CONVEYOR_{endpoint.Name.ToUpperInvariant()}_BROKER_PASSWORD";

    /// <param name="vhosts">The vhosts to define (the same exchanges, queues and permissions in each).</param>
    /// <param name="deliveryLimit">The <c>x-delivery-limit</c> of <c>error</c> and <c>audit</c>: -1 for RabbitMQ 4, none for 3.x.</param>
    /// <param name="withOperator">Whether to define the operator's user too (a cluster the Helm chart joins has its own administrators).</param>
    public static JsonObject For(IReadOnlyList<string> vhosts, int? deliveryLimit, bool withOperator = true)
    {
        IEnumerable<JsonObject> operatorUser = withOperator ? [User(OperatorUser, OperatorPasswordVariable, "management")] : [];
        var platformArguments = new JsonObject { ["x-queue-type"] = "quorum" };
        if (deliveryLimit is { } limit) platformArguments["x-delivery-limit"] = limit;

        return new JsonObject
        {
            ["vhosts"] = Array(vhosts.Select(vhost => new JsonObject
            {
                ["name"] = vhost,
                ["default_queue_type"] = "quorum",
                ["metadata"] = new JsonObject { ["description"] = "Conveyor", ["default_queue_type"] = "quorum" },
            })),
            ["users"] = Array(operatorUser
                .Concat(SystemTopology.Endpoints.Select(e => User(e.BrokerUser, PasswordVariableOf(e), e.IsServiceControl ? "monitoring" : null)))),
            ["permissions"] = Array(vhosts.SelectMany(vhost =>
                (withOperator ? [Permission(OperatorUser, vhost, BrokerPermissions.Operator)] : Enumerable.Empty<JsonObject>())
                    .Concat(SystemTopology.Endpoints.Select(e => Permission(e.BrokerUser, vhost, BrokerPermissions.For(e)))))),
            ["exchanges"] = Array(vhosts.SelectMany(vhost => SystemTopology.Exchanges.Select(exchange => new JsonObject
            {
                ["name"] = exchange,
                ["vhost"] = vhost,
                ["type"] = "fanout",
                ["durable"] = true,
                ["auto_delete"] = false,
                ["internal"] = false,
                ["arguments"] = new JsonObject(),
            }))),
            ["queues"] = Array(vhosts.SelectMany(vhost => SystemTopology.PlatformQueues.Select(queue => new JsonObject
            {
                ["name"] = queue,
                ["vhost"] = vhost,
                ["durable"] = true,
                ["auto_delete"] = false,
                ["arguments"] = platformArguments.DeepClone(),
            }))),
            ["bindings"] = Array(vhosts.SelectMany(vhost => SystemTopology.PlatformQueues.Select(queue => new JsonObject
            {
                ["source"] = queue,
                ["vhost"] = vhost,
                ["destination"] = queue,
                ["destination_type"] = "queue",
                ["routing_key"] = queue,
                ["arguments"] = new JsonObject(),
            }))),
        };
    }

    public static string Write(JsonNode node) => node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";

    private static JsonObject User(string name, string passwordVariable, string? tag) => new()
    {
        ["name"] = name,
        ["password"] = $"${{{passwordVariable}}}",
        ["tags"] = new JsonArray(tag is null ? [] : [(JsonNode)tag]),
    };

    private static JsonObject Permission(string user, string vhost, BrokerPermissions permissions) => new()
    {
        ["user"] = user,
        ["vhost"] = vhost,
        ["configure"] = permissions.Configure,
        ["write"] = permissions.Write,
        ["read"] = permissions.Read,
    };

    private static JsonArray Array(IEnumerable<JsonNode> items) => new([.. items]);
}
