using System.Text;
using System.Text.Json.Nodes;

namespace Conveyor.Topology;

/// <summary>
/// The files derived from <see cref="SystemTopology"/> for what cannot reference it: build.ps1, the broker of a local
/// run, of Docker Compose and of the Helm chart, Prometheus's local scrape targets, and the regions of hand-written
/// files that name ports, queues or users (compose, the database init script, the docs). <c>tools/Topology</c> writes
/// them (<c>./build.sh topology</c>); a test fails when a committed one is not what this would write.
/// </summary>
public static class GeneratedFiles
{
    /// <summary>The vhost of <c>./build.sh up</c>.</summary>
    public const string RunVhost = "conveyor";

    /// <summary>The vhost of the tests' processes, beside a local run.</summary>
    public const string TestVhost = "conveyor-tests";

    /// <summary>The vhost of the bench's system under load, emptied before each bench.</summary>
    public const string BenchVhost = "conveyor-bench";

    /// <summary>The vhosts of a local run: <c>up</c>'s, the tests' and the bench's.</summary>
    public static readonly IReadOnlyList<string> LocalVhosts = [RunVhost, TestVhost, BenchVhost];

    /// <summary>The vhost of a deployment (compose, the Helm chart's default).</summary>
    public const string DeployedVhost = "conveyor";

    /// <summary>RabbitMQ 4 (compose runs 4.1, and so should a cluster): its quorum queues need -1 for "no limit".</summary>
    private const int DeployedDeliveryLimit = -1;

    public const string Banner = "Generated from Topology/SystemTopology.cs by tools/Topology (./build.sh topology): do not edit.";

    /// <summary>The Helm chart's broker set-up job fills this in with the chart's vhost (rabbitmq.vhost).</summary>
    public const string VhostPlaceholder = "${CONVEYOR_BROKER_VHOST}";

    private const string ComposeFillScript = "deploy/compose/rabbitmq/fill-definitions.sh";

    /// <summary>Hand-written files the generator reads beside the ones it rewrites.</summary>
    public static readonly IReadOnlyList<string> Inputs = [ComposeFillScript];
    private const string HelmFillScript = "deploy/helm/conveyor/files/fill-definitions.sh";

    /// <summary>Every wholly generated file, by its path from the repository root.</summary>
    public static IReadOnlyDictionary<string, string> Files() => new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["deploy/topology.json"] = TopologyJson(),
        // A local run's broker is whatever the OS packages bring (3.10 here): build.ps1 adds error's delivery limit on 4.x.
        ["deploy/rabbitmq/definitions.local.json"] = BrokerDefinitions.Write(WithBanner(BrokerDefinitions.For(LocalVhosts, deliveryLimit: null))),
        ["deploy/compose/rabbitmq/definitions.json"] = BrokerDefinitions.Write(WithBanner(BrokerDefinitions.For([DeployedVhost], DeployedDeliveryLimit))),
        ["deploy/helm/conveyor/files/broker-definitions.json"] = BrokerDefinitions.Write(WithBanner(BrokerDefinitions.For([VhostPlaceholder], DeployedDeliveryLimit, withOperator: false))),
        ["deploy/prometheus/local.targets.json"] = ScrapeTargets(),
        ["deploy/helm/conveyor/files/topology.json"] = HelmTopology(),
    };

    /// <summary>
    /// Every generated file as it should be in the repository at <paramref name="root"/>: the wholly generated ones,
    /// the hand-written ones with their generated regions rewritten (<see cref="GeneratedRegions"/>), and the realm
    /// with Pulse's addresses (<see cref="RealmAddresses"/>).
    /// </summary>
    public static IReadOnlyDictionary<string, string> All(string root)
    {
        var all = new SortedDictionary<string, string>(Files().ToDictionary(), StringComparer.Ordinal);
        foreach (var file in GeneratedRegions.All.GroupBy(r => r.Path))
        {
            var text = File.ReadAllText(Path.Combine(root, file.Key));
            all[file.Key] = file.Aggregate(text, (current, region) => region.ApplyTo(current));
        }

        // The chart cannot reach outside its folder: its broker set-up job gets a copy of compose's script.
        all[HelmFillScript] = File.ReadAllText(Path.Combine(root, ComposeFillScript));
        all[RealmAddresses.Path] = RealmAddresses.ApplyTo(File.ReadAllText(Path.Combine(root, RealmAddresses.Path)));
        return all;
    }

    /// <summary>The generated files under <paramref name="root"/> that differ from what they should be.</summary>
    public static IReadOnlyList<string> Stale(string root) =>
        [.. All(root).Where(f => !File.Exists(Path.Combine(root, f.Key)) || File.ReadAllText(Path.Combine(root, f.Key)) != f.Value).Select(f => f.Key)];

    /// <summary>What build.ps1 needs: the processes to start, their ports and projects, the databases and roles to create.</summary>
    private static string TopologyJson()
    {
        var json = new JsonObject
        {
            ["_generated"] = Banner,
            ["testPortOffset"] = ProcessTopology.TestPortOffset,
            ["errorQueue"] = SystemTopology.ErrorQueue,
            ["operatorUser"] = BrokerDefinitions.OperatorUser,
            ["operatorDevelopmentPassword"] = DevelopmentPasswords.Operator,
            ["vhosts"] = new JsonObject { ["run"] = RunVhost, ["tests"] = TestVhost, ["bench"] = BenchVhost },
            // The processes a script addresses by role: the HTTP API for orders, ServiceControl, the identity provider.
            ["ordersApi"] = SystemTopology.Orders.Name,
            ["serviceControl"] = SystemTopology.ServiceControl.Name,
            ["identityProvider"] = SystemTopology.IdentityProvider.Name,
            ["auditQueue"] = SystemTopology.AuditQueue,
            // Every business message: its exchange, and the broker users that may put it on the broker.
            ["messages"] = new JsonArray([.. SystemTopology.MessageTypes.Select(type => (JsonNode)new JsonObject
            {
                ["type"] = type.FullName,
                ["exchange"] = SystemTopology.ExchangeFor(type),
                ["kind"] = SystemTopology.KindOf(type),
                ["senders"] = new JsonArray([.. SystemTopology.SendersOf(type).Select(e => (JsonNode)e.BrokerUser)]),
            })]),
            ["processes"] = new JsonArray([.. SystemTopology.Processes.Select(process =>
            {
                var entry = new JsonObject
                {
                    ["name"] = process.Name, ["runtime"] = process.Runtime.ToString().ToLowerInvariant(), ["project"] = process.Project,
                    ["port"] = process.Port, ["testPort"] = process.TestPort,
                };
                if (process is EndpointTopology endpoint)
                {
                    entry["queue"] = endpoint.Queue;
                    entry["database"] = endpoint.Database;
                    entry["databaseRole"] = endpoint.DatabaseRole;
                    entry["brokerUser"] = endpoint.BrokerUser;
                    entry["business"] = !endpoint.IsServiceControl;
                    entry["developmentPassword"] = DevelopmentPasswords.Of(endpoint);
                    // What an endpoint not written in .NET needs to bind its queue and check who sent what it receives.
                    entry["exchangesRead"] = new JsonArray([.. endpoint.ExchangesRead.Select(e => (JsonNode)e)]);
                    entry["exchangesWritten"] = new JsonArray([.. endpoint.ExchangesWritten.Select(e => (JsonNode)e)]);
                }

                return (JsonNode)entry;
            })]),
        };
        return BrokerDefinitions.Write(json);
    }

    /// <summary>
    /// What the chart's templates need to know of the processes beyond their values: which one is ServiceControl and
    /// which ones send mail. The templates also refuse values whose processes are not exactly the topology's endpoints.
    /// </summary>
    private static string HelmTopology() =>
        BrokerDefinitions.Write(new JsonObject
        {
            ["_generated"] = Banner,
            ["endpoints"] = new JsonArray([.. SystemTopology.Endpoints.Select(e => (JsonNode)e.Name)]),
            ["serviceControl"] = SystemTopology.ServiceControl.Name,
            ["mailSenders"] = new JsonArray([.. SystemTopology.Endpoints.Where(e => e.SendsMail).Select(e => (JsonNode)e.Name)]),
        });

    /// <summary>Prometheus file-based service discovery for a local run: every endpoint's /metrics.</summary>
    private static string ScrapeTargets() =>
        BrokerDefinitions.Write(new JsonArray([.. SystemTopology.Endpoints.Select(endpoint => (JsonNode)new JsonObject
        {
            ["targets"] = new JsonArray($"127.0.0.1:{endpoint.Port}"),
            ["labels"] = new JsonObject { ["endpoint"] = endpoint.Name },
        })]));

    private static JsonObject WithBanner(JsonObject definitions)
    {
        // RabbitMQ ignores keys it does not know in a definitions file.
        var withBanner = new JsonObject { ["_generated"] = Banner };
        foreach (var (key, value) in definitions.ToList())
        {
            definitions.Remove(key);
            withBanner[key] = value;
        }

        return withBanner;
    }

    /// <summary>Writes every generated file under <paramref name="root"/>; returns the ones that changed.</summary>
    public static IReadOnlyList<string> WriteAll(string root)
    {
        var changed = new List<string>();
        foreach (var (path, content) in All(root))
        {
            var file = Path.Combine(root, path);
            if (File.Exists(file) && File.ReadAllText(file) == content) continue;
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            File.WriteAllText(file, content, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            changed.Add(path);
        }

        return changed;
    }
}
