using System.Net.Sockets;
using Conveyor.Topology;

namespace Integration.Tests.Infrastructure;

/// <summary>
/// Where the real infrastructure is. ./build.sh test provisions exactly these (local development
/// defaults); each can be overridden with an environment variable to run against other servers.
/// </summary>
public static class TestEnvironment
{
    // LOCAL DEVELOPMENT DEFAULTS ONLY, created by build.ps1 on the test machine (Conveyor.Topology.DevelopmentPasswords).
    public static string RabbitMq =>
        Environment.GetEnvironmentVariable("CONVEYOR_TEST_RABBITMQ")
        ?? $"amqp://{BrokerDefinitions.OperatorUser}:{DevelopmentPasswords.Operator}@127.0.0.1:5672/{GeneratedFiles.TestVhost}";

    /// <summary>The broker as <paramref name="endpoint"/> connects to it: its own user, its own password, its own rights.</summary>
    public static string RabbitMqFor(EndpointTopology endpoint) =>
        Environment.GetEnvironmentVariable("CONVEYOR_TEST_RABBITMQ") is { } configured
            ? configured
            : $"amqp://{endpoint.BrokerUser}:{DevelopmentPasswords.Of(endpoint)}@127.0.0.1:5672/{GeneratedFiles.TestVhost}";

    public static Uri RabbitMqManagement =>
        new(Environment.GetEnvironmentVariable("CONVEYOR_TEST_RABBITMQ_MANAGEMENT") ?? "http://127.0.0.1:15672");

    public static string PostgresHost => Environment.GetEnvironmentVariable("CONVEYOR_TEST_POSTGRES_HOST") ?? "127.0.0.1";

    /// <summary>A database as <paramref name="role"/>: an endpoint's role with its own password, or the in-process tests' own.</summary>
    public static string Database(string name, string role) =>
        $"Host={PostgresHost};Port=5432;Database={name};Username={role};Password={PasswordOf(role)}";

    private static string PasswordOf(string role) =>
        SystemTopology.Endpoints.FirstOrDefault(e => e.DatabaseRole == role) is { } endpoint ? DevelopmentPasswords.Of(endpoint) : DevelopmentPasswords.Operator;

    public static Uri SmtpApi => new(Environment.GetEnvironmentVariable("CONVEYOR_TEST_SMTP_API") ?? "http://127.0.0.1:5025");

    public static int SmtpPort => int.Parse(Environment.GetEnvironmentVariable("CONVEYOR_TEST_SMTP_PORT") ?? "2525");

    /// <summary>Skips (with the reason) rather than fails when a service the test needs is not running at all.</summary>
    public static void RequireTcp(string what, string host, int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(host, port);
        }
        catch (SocketException ex)
        {
            Assert.Ignore($"{what} is not reachable at {host}:{port} ({ex.SocketErrorCode}); run the tests with ./build.sh test, which starts it.");
        }
    }

    public static void RequireBrokerAndDatabase()
    {
        var rabbit = new Uri(RabbitMq);
        RequireTcp("RabbitMQ", rabbit.Host, rabbit.Port);
        RequireTcp("PostgreSQL", PostgresHost, 5432);
    }

    /// <summary>A TCP port nothing listens on at the moment, for a server of the test's own.</summary>
    public static int FreeTcpPort()
    {
        using var listener = new global::System.Net.Sockets.TcpListener(global::System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((global::System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> after the deadline.</summary>
    public static async Task<T> Eventually<T>(Func<Task<T>> probe, Func<T, bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        T last;
        do
        {
            last = await probe();
            if (condition(last)) return last;
            await Task.Delay(100);
        }
        while (DateTime.UtcNow < deadline);

        Assert.Fail($"Timed out waiting for {what}; last observed: {last}");
        return last;
    }
}
