using Conveyor.Topology;
using System.Text.Json;
using System.Text.RegularExpressions;
using Deployment.Tests.Infrastructure;

namespace Deployment.Tests.Compose;

/// <summary>
/// The broker's and the database's first-start scripts for compose: the broker definitions start.sh renders
/// (run here, with the image's entrypoint stubbed) give each endpoint only its own messaging, as build.ps1's
/// local setup does; the PostgreSQL init script creates one database and role per endpoint.
/// </summary>
public class TheInitScriptsSetUpOneOfEachPerEndpoint
{
    [Test]
    public async Task The_broker_definitions_give_each_endpoint_only_its_own_queues()
    {
        var folder = Directory.CreateTempSubdirectory("conveyor-rabbitmq-").FullName;
        try
        {
            // Stands in for the image's entrypoint, which start.sh hands over to.
            var entrypoint = Path.Combine(folder, "docker-entrypoint.sh");
            File.WriteAllText(entrypoint, "#!/bin/sh\nexit 0\n");
            await Command.RunAsync("chmod", ["+x", entrypoint]);
            var definitions = Path.Combine(folder, "definitions.json");
            var environment = ComposeFile.Processes.ToDictionary(p => $"CONVEYOR_{p.ToUpperInvariant()}_BROKER_PASSWORD", p => $"{p}-pw");
            environment["PATH"] = folder + ":" + Environment.GetEnvironmentVariable("PATH");
            environment["CONVEYOR_DEFINITIONS_FILE"] = definitions;
            environment["CONVEYOR_BROKER_ADMIN_PASSWORD"] = "admin-pw";
            var result = await Command.RunAsync("sh", [Repository.PathTo("deploy", "compose", "rabbitmq", "start.sh")], environment: environment);
            Assert.That(result.ExitCode, Is.Zero, result.ToString());

            using var json = JsonDocument.Parse(File.ReadAllText(definitions));
            var users = json.RootElement.GetProperty("users").EnumerateArray().ToDictionary(u => u.GetProperty("name").GetString()!, u => u.GetProperty("password").GetString());
            var permissions = json.RootElement.GetProperty("permissions").EnumerateArray().ToDictionary(
                p => p.GetProperty("user").GetString()!,
                p => (Configure: new Regex(p.GetProperty("configure").GetString()!), Write: new Regex(p.GetProperty("write").GetString()!), Read: new Regex(p.GetProperty("read").GetString()!)));

            Assert.Multiple(() =>
            {
                Assert.That(json.RootElement.GetProperty("vhosts")[0].GetProperty("name").GetString(), Is.EqualTo("conveyor"));
                Assert.That(json.RootElement.GetProperty("vhosts")[0].GetProperty("default_queue_type").GetString(), Is.EqualTo("quorum"));
                Assert.That(users, Is.EquivalentTo(ComposeFile.Processes.ToDictionary(p => p, p => (string?)$"{p}-pw").Append(new("conveyor", "admin-pw"))),
                    "each endpoint has its own password");
                foreach (var endpoint in ComposeFile.Processes)
                {
                    var own = permissions[endpoint];
                    Assert.That(own.Configure.IsMatch(endpoint) && own.Read.IsMatch(endpoint), $"{endpoint} declares and consumes its own queue");
                    Assert.That(own.Write.IsMatch(SystemTopology.ErrorQueue), $"{endpoint} puts its failures into error");
                    Assert.That(own.Write.IsMatch(SystemTopology.AuditQueue), $"{endpoint} sends its audit copies to audit");
                    if (endpoint != SystemTopology.ServiceControl.BrokerUser)
                    {
                        Assert.That(own.Read.IsMatch(SystemTopology.ErrorQueue) || own.Configure.IsMatch(SystemTopology.ErrorQueue), Is.False, $"{endpoint} may consume, purge or delete error");
                        Assert.That(own.Read.IsMatch(SystemTopology.AuditQueue) || own.Configure.IsMatch(SystemTopology.AuditQueue), Is.False, $"{endpoint} may consume, purge or delete audit");
                        Assert.That(own.Write.IsMatch("amq.default"), Is.False, $"{endpoint} may write the default exchange");
                    }

                    foreach (var other in ComposeFile.Processes.Where(p => p != endpoint))
                    {
                        Assert.That(own.Read.IsMatch(other) || own.Configure.IsMatch(other), Is.False, $"{endpoint} may touch {other}'s queue");
                    }
                }

                var (orders, payments, notifications, serviceControl) = (permissions[SystemTopology.Orders.BrokerUser], permissions[SystemTopology.Payments.BrokerUser],
                    permissions[SystemTopology.Notifications.BrokerUser], permissions[SystemTopology.ServiceControl.BrokerUser]);
                Assert.That(orders.Write.IsMatch("OrderPlaced") && payments.Read.IsMatch("OrderPlaced"), "orders publishes OrderPlaced, payments subscribes");
                Assert.That(payments.Write.IsMatch("OrderPlaced"), Is.False, "payments cannot publish OrderPlaced");
                Assert.That(notifications.Write.IsMatch("PaymentAuthorized") || notifications.Write.IsMatch("RefundPayment"), Is.False, "notifications sends no business message");
                Assert.That(serviceControl.Read.IsMatch(SystemTopology.ErrorQueue) && serviceControl.Read.IsMatch(SystemTopology.AuditQueue), "servicecontrol consumes error and audit");
                Assert.That(serviceControl.Write.IsMatch("amqXdefault"), Is.False, "the dot is literal");
            });
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task The_database_init_script_creates_one_database_and_role_per_endpoint()
    {
        var script = Repository.PathTo("deploy", "compose", "postgres-init", "10-conveyor-databases.sh");
        var syntax = await Command.RunAsync("bash", ["-n", script]);
        var loop = Regex.Match(File.ReadAllText(script), @"endpoints=""([a-z ]+)""");
        Assert.Multiple(() =>
        {
            Assert.That(syntax.ExitCode, Is.Zero, syntax.ToString());
            Assert.That(loop.Groups[1].Value.Split(' '), Is.EquivalentTo(ComposeFile.Processes));
            Assert.That(File.ReadAllText(script), Does.Contain("REVOKE CONNECT ON DATABASE").And.Contain("GRANT CONNECT ON DATABASE"));
            Assert.That(File.ReadAllText(script), Does.Contain("CONVEYOR_${endpoint^^}_DB_PASSWORD"), "a password per endpoint");
            Assert.That(ComposeFile.Services()["postgres"].List("volumes"), Does.Contain("./deploy/compose/postgres-init:/docker-entrypoint-initdb.d:ro"));
        });
    }
}
