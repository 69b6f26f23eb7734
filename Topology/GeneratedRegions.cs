namespace Conveyor.Topology;

/// <summary>
/// The parts of hand-written files that name the system's ports, queues, users or databases, each derived from
/// <see cref="SystemTopology"/> so that a new endpoint or a moved port changes them with the topology.
/// </summary>
public static class GeneratedRegions
{
    private const string ComposeFile = "docker-compose.yml";

    public static readonly IReadOnlyList<GeneratedRegion> All =
    [
        new(ComposeFile, "endpoints", CommentSyntax.Hash, ComposeAnchors),
        new("deploy/compose/postgres-init/10-conveyor-databases.sh", "endpoints", CommentSyntax.Hash,
            () => [$"endpoints=\"{string.Join(' ', SystemTopology.Endpoints.Select(e => e.Database))}\""]),
        new("deploy/helm/conveyor/templates/NOTES.txt", "port-forward", CommentSyntax.HelmTemplate, HelmPortForwards),
        new("docs/architecture.md", "messages", CommentSyntax.Html, MessageRows),
        new("README.md", "addresses", CommentSyntax.Html, () => AddressRows("127.0.0.1", SystemTopology.Processes)),
        new("docs/deployment.md", "addresses", CommentSyntax.Html, () => AddressRows("localhost", SystemTopology.Endpoints)),
        new("docs/orders-api.md", "addresses", CommentSyntax.Hash, ShellAddresses),
        new("docs/servicecontrol.md", "addresses", CommentSyntax.Hash, ShellAddresses),
        new("docs/security.md", "addresses", CommentSyntax.Hash, ShellAddresses),
        new("docs/performance.md", "addresses", CommentSyntax.Hash, ShellAddresses),
    ];

    /// <summary>
    /// What compose needs of each endpoint, as YAML anchors its services merge: image, build and published port
    /// (<c>&amp;orders</c>), its connection strings with its own passwords (<c>&amp;orders-connections</c>), and every
    /// password variable for the broker's and the database's first start.
    /// </summary>
    private static IEnumerable<string> ComposeAnchors()
    {
        foreach (var endpoint in SystemTopology.Endpoints)
        {
            var directory = Path.GetDirectoryName(endpoint.Project)!.Replace('\\', '/');
            yield return $"x-{endpoint.Name}: &{endpoint.Name}";
            yield return $"  image: conveyor/{endpoint.Name}:${{CONVEYOR_TAG:-dev}}";
            yield return $"  build: {{ context: ., dockerfile: {directory}/Dockerfile }}";
            yield return $"  ports: [\"127.0.0.1:{endpoint.Port}:8080\"]";
            yield return $"x-{endpoint.Name}-connections: &{endpoint.Name}-connections";
            yield return $"  ConnectionStrings__Database: Host=postgres;Port=5432;Database={endpoint.Database};Username={endpoint.DatabaseRole};Password={ComposeVariable(DatabasePasswordVariableOf(endpoint), endpoint)};Maximum Pool Size=20";
            yield return $"  ConnectionStrings__RabbitMq: amqp://{endpoint.BrokerUser}:{ComposeVariable(BrokerDefinitions.PasswordVariableOf(endpoint), endpoint)}@rabbitmq:5672/{GeneratedFiles.DeployedVhost}";
        }

        yield return "x-broker-passwords: &broker-passwords";
        yield return $"  {BrokerDefinitions.OperatorPasswordVariable}: ${{{BrokerDefinitions.OperatorPasswordVariable}:-{DevelopmentPasswords.Operator}}}";
        foreach (var endpoint in SystemTopology.Endpoints)
            yield return $"  {BrokerDefinitions.PasswordVariableOf(endpoint)}: {ComposeVariable(BrokerDefinitions.PasswordVariableOf(endpoint), endpoint)}";
        yield return "x-database-passwords: &database-passwords";
        foreach (var endpoint in SystemTopology.Endpoints)
            yield return $"  {DatabasePasswordVariableOf(endpoint)}: {ComposeVariable(DatabasePasswordVariableOf(endpoint), endpoint)}";
        // The init script creates the databases in this order: once the last one answers, all of them exist.
        yield return $"x-databases-created: &databases-created [\"CMD\", \"pg_isready\", \"-h\", \"127.0.0.1\", \"-U\", \"postgres\", \"-d\", \"{SystemTopology.Endpoints[^1].Database}\"]";
    }

    /// <summary>The environment variable with an endpoint's database password in compose: <c>CONVEYOR_ORDERS_DB_PASSWORD</c>.</summary>
    public static string DatabasePasswordVariableOf(EndpointTopology endpoint) => $"CONVEYOR_{endpoint.Name.ToUpperInvariant()}_DB_PASSWORD";

    private static string ComposeVariable(string variable, EndpointTopology endpoint) => $"${{{variable}:-{DevelopmentPasswords.Of(endpoint)}}}";

    /// <summary>The local ports of a port-forward are the local run's, so Pulse's sign-in returns to a registered address.</summary>
    private static IEnumerable<string> HelmPortForwards() =>
    [
        $"Orders API:  kubectl port-forward svc/{{{{ include \"conveyor.fullname\" . }}}}-{SystemTopology.Orders.Name} {SystemTopology.Orders.Port}:{{{{ .Values.service.port }}}}",
        $"Pulse:       kubectl port-forward svc/{{{{ include \"conveyor.fullname\" . }}}}-{SystemTopology.ServiceControl.Name} {SystemTopology.ServiceControl.Port}:{{{{ .Values.service.port }}}}",
    ];

    private static IEnumerable<string> AddressRows(string host, IEnumerable<ProcessTopology> processes) =>
        ["| process | where |", "| --- | --- |", .. processes.Select(p => $"| {Describe(p)} | http://{host}:{p.Port}{PathOf(p)} |")];

    private static string Describe(ProcessTopology process) => process switch
    {
        _ when process == SystemTopology.Orders => "**Orders API** (`POST /orders`, `GET /orders/{id}`, …; a bearer token)",
        _ when process == SystemTopology.ServiceControl => "**Pulse** (ServiceControl's UI), its API under `/api/`",
        _ when process == SystemTopology.IdentityProvider => "OpenID Connect provider (development only)",
        _ => $"{char.ToUpperInvariant(process.Name[0])}{process.Name[1..]} (`/health/ready`, `/metrics`)",
    };

    private static string PathOf(ProcessTopology process) => process switch
    {
        _ when process == SystemTopology.ServiceControl => "/",
        _ when process == SystemTopology.IdentityProvider => "/realms/conveyor/.well-known/openid-configuration",
        _ => "",
    };

    private static IEnumerable<string> MessageRows()
    {
        yield return "| exchange | kind | written by | bound to the queue of |";
        yield return "| --- | --- | --- | --- |";
        foreach (var type in SystemTopology.MessageTypes)
        {
            var readers = SystemTopology.BusinessEndpoints.Where(e => e.SubscribesTo.Contains(type) || e.Receives.Contains(type)).Select(e => e.Queue);
            yield return $"| `{SystemTopology.ExchangeFor(type)}` | {SystemTopology.KindOf(type)} | {string.Join(", ", SystemTopology.SendersOf(type).Select(e => e.BrokerUser))} | {string.Join(", ", readers)} |";
        }

        foreach (var command in SystemTopology.PlatformCommands)
            yield return $"| `{command}` | command | every endpoint | {SystemTopology.ServiceControl.Queue} |";
        yield return $"| `{SystemTopology.ErrorQueue}` | failed messages | every endpoint | {SystemTopology.ErrorQueue}, read by {SystemTopology.ServiceControl.BrokerUser} only |";
        yield return $"| `{SystemTopology.AuditQueue}` | copies of handled messages | every endpoint | {SystemTopology.AuditQueue}, read by {SystemTopology.ServiceControl.BrokerUser} only |";
    }

    /// <summary>The local run's addresses as shell variables, for the docs' curl examples.</summary>
    private static IEnumerable<string> ShellAddresses() =>
    [
        $"ORDERS=http://127.0.0.1:{SystemTopology.Orders.Port} PAYMENTS=http://127.0.0.1:{SystemTopology.Payments.Port} " +
        $"PULSE=http://127.0.0.1:{SystemTopology.ServiceControl.Port} IDENTITY=http://127.0.0.1:{SystemTopology.IdentityProvider.Port}",
    ];
}
