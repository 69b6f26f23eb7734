using System.Globalization;
using Conveyor.Topology;

namespace Conveyor.Bench;

public sealed class BenchFailedException(string message) : Exception(message);

/// <summary>Command line: <c>--phase system --label x1 --duration 00:00:30 --concurrency 32 [--rate 200] [--orders-api url1,url2] --output dir</c>.</summary>
public sealed record BenchOptions(
    string Phase,
    string Label,
    TimeSpan Duration,
    TimeSpan Warmup,
    int Concurrency,
    double? Rate,
    string Output,
    IReadOnlyList<Uri> OrdersApis,
    Uri TokenEndpoint,
    string Postgres,
    string RabbitMq,
    int Instances,
    string DatabaseSuffix,
    int Run,
    int SinkPort,
    int BaselinePort,
    bool Ramp,
    TimeSpan RampStep)
{
    public static BenchOptions Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"Unexpected argument '{args[i]}'.");
            values[args[i][2..]] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "true";
        }

        string Get(string name, string fallback) => values.GetValueOrDefault(name) ?? fallback;
        return new BenchOptions(
            Get("phase", "system"),
            Get("label", "system"),
            TimeSpan.Parse(Get("duration", "00:00:30"), CultureInfo.InvariantCulture),
            TimeSpan.Parse(Get("warmup", "00:00:05"), CultureInfo.InvariantCulture),
            int.Parse(Get("concurrency", "32"), CultureInfo.InvariantCulture),
            values.TryGetValue("rate", out var rate) ? double.Parse(rate, CultureInfo.InvariantCulture) : null,
            Get("output", Path.Combine(".artifacts", "bench")),
            Get("orders-api", $"http://127.0.0.1:{SystemTopology.Orders.Port}").Split(',').Select(u => new Uri(u)).ToList(),
            new Uri(Get("token-endpoint", $"http://127.0.0.1:{SystemTopology.IdentityProvider.Port}/realms/conveyor/protocol/openid-connect/token")),
            // LOCAL DEVELOPMENT DEFAULTS ONLY (created by ./build.sh): the bench reads the endpoints' databases as their owners.
            Get("postgres", "Host=127.0.0.1;Port=5432"),
            Get("rabbitmq", $"amqp://{BrokerDefinitions.OperatorUser}:{DevelopmentPasswords.Operator}@127.0.0.1:5672/{GeneratedFiles.BenchVhost}"),
            int.Parse(Get("instances", "1"), CultureInfo.InvariantCulture),
            Get("database-suffix", ""),
            int.Parse(Get("run", "1"), CultureInfo.InvariantCulture),
            int.Parse(Get("sink-port", "2526"), CultureInfo.InvariantCulture),
            int.Parse(Get("baseline-port", "5180"), CultureInfo.InvariantCulture),
            values.ContainsKey("ramp"),
            TimeSpan.Parse(Get("ramp-step", "00:00:15"), CultureInfo.InvariantCulture));
    }

    /// <summary>An endpoint's database as its owner (the system under load has its own, suffixed <c>_bench</c>).</summary>
    public string Database(EndpointTopology owner) =>
        $"{Postgres};Database={owner.Database}{DatabaseSuffix};Username={owner.DatabaseRole};Password={DevelopmentPasswords.Of(owner)}";

    /// <summary>The baseline's own database, whatever the suffix.</summary>
    public string BaselineDatabase => $"{Postgres};Database=conveyor_bench;Username=conveyor_bench;Password={DevelopmentPasswords.Operator}";
}
