using Conveyor.Topology;
using System.Text.RegularExpressions;
using Deployment.Tests.Infrastructure;

namespace Deployment.Tests.Compose;

/// <summary>What docker-compose.yml must hold: every process and every piece of infrastructure, each with a
/// health check that what depends on it waits for, pinned images, named volumes, a network per concern and
/// configuration from the environment only.</summary>
public class TheComposeStackIsComplete
{
    /// <summary>The collector's image is distroless: nothing in it can probe, so it has no health check and nothing waits for it.</summary>
    private static readonly string[] WithoutHealthCheck = ["otel-collector"];

    private readonly Dictionary<string, Dictionary<object, object?>> _services = ComposeFile.Services();

    [Test]
    public void It_names_every_process_and_every_piece_of_infrastructure()
    {
        Assert.That(_services.Keys, Is.EquivalentTo(ComposeFile.Processes.Concat(ComposeFile.DefaultInfrastructure).Concat(ComposeFile.Observability)));
    }

    [Test]
    public void The_default_stack_is_small_and_the_observability_profile_holds_the_heavy_parts()
    {
        Assert.Multiple(() =>
        {
            foreach (var name in ComposeFile.Processes.Concat(ComposeFile.DefaultInfrastructure))
            {
                Assert.That(ComposeFile.Profiles(_services[name]), Is.Empty, $"{name} belongs to `docker compose up`");
            }

            foreach (var name in ComposeFile.Observability)
            {
                Assert.That(ComposeFile.Profiles(_services[name]), Is.EqualTo(new[] { "observability" }), $"{name} belongs to the observability profile");
            }
        });
    }

    [Test]
    public void Every_service_has_a_health_check()
    {
        Assert.Multiple(() =>
        {
            foreach (var (name, service) in _services.Where(s => !WithoutHealthCheck.Contains(s.Key)))
            {
                Assert.That(service.Find("healthcheck.test") as List<object?>, Is.Not.Null.And.Not.Empty, $"{name} has no healthcheck test");
            }
        });
    }

    [Test]
    public void What_a_service_depends_on_is_healthy_first_and_started_with_it()
    {
        Assert.Multiple(() =>
        {
            foreach (var (name, service) in _services)
            {
                foreach (var (dependency, condition) in ComposeFile.DependsOn(service))
                {
                    Assert.That(_services, Does.ContainKey(dependency), $"{name} depends on an unknown {dependency}");
                    Assert.That(condition, Is.EqualTo("service_healthy"), $"{name} -> {dependency}");
                    Assert.That(WithoutHealthCheck, Does.Not.Contain(dependency), $"{name} waits for {dependency}, which has no health check");
                    // A dependency in a profile that is not enabled is not started: `docker compose up` would fail.
                    if (ComposeFile.Profiles(service).Count == 0) Assert.That(ComposeFile.Profiles(_services[dependency]), Is.Empty, $"{name} (default) depends on {dependency} (a profile)");
                }
            }

            foreach (var process in ComposeFile.Processes)
            {
                // The .NET processes check bearer tokens against Keycloak's keys; Inventory (Node.js) answers no request that needs one.
                string[] needed = SystemTopology.Named(process).Runtime == Runtime.DotNet ? ["rabbitmq", "postgres", "keycloak"] : ["rabbitmq", "postgres"];
                Assert.That(ComposeFile.DependsOn(_services[process]).Keys, Is.SupersetOf(needed), process);
            }

            Assert.That(ComposeFile.DependsOn(_services[SystemTopology.Notifications.Name]).Keys, Does.Contain("mailpit"));
        });
    }

    [Test]
    public void Every_image_is_pinned()
    {
        Assert.Multiple(() =>
        {
            foreach (var (name, service) in _services)
            {
                var image = service.Text("image");
                var tag = image.Contains(':') ? image[(image.LastIndexOf(':') + 1)..] : "";
                if (service.Find("build") is not null)
                {
                    // Built here from a Dockerfile: tagged by the caller (CONVEYOR_TAG), never "latest".
                    Assert.That(image, Does.Match(@"^conveyor/" + Regex.Escape(name) + @":\$\{CONVEYOR_TAG:-[a-z0-9.]+\}$"), name);
                    Assert.That(File.Exists(Repository.PathTo(service.Text("build.dockerfile"))), $"{name}: no {service.Text("build.dockerfile")}");
                }
                else
                {
                    // A release, not a moving major tag: 17.6 for PostgreSQL (major.minor is its full version), 4.1.4, v3.6.0.
                    Assert.That(tag, Does.Match(@"^v?\d+\.\d+(\.\d+)?(-[a-z]+)?$"), $"{name}: {image} is not pinned to a release");
                }

                Assert.That(tag, Does.Not.Contain("latest"), $"{name}: {image}");
            }
        });
    }

    [Test]
    public void State_lives_in_named_volumes_and_mounted_files_exist()
    {
        var declared = ComposeFile.Read().Map("volumes").Keys().ToList();
        Assert.Multiple(() =>
        {
            foreach (var name in new[] { "rabbitmq", "postgres", "elasticsearch", "prometheus", "grafana" })
            {
                Assert.That(_services[name].Find("volumes") as List<object?>, Has.Some.Matches<object?>(v => !v!.ToString()!.StartsWith('.')), $"{name} keeps its data in a named volume");
            }

            foreach (var (name, service) in _services)
            {
                foreach (var source in (service.Find("volumes") as List<object?> ?? []).Select(v => v!.ToString()!.Split(':')[0]))
                {
                    if (source.StartsWith("./", StringComparison.Ordinal)) Assert.That(Path.Exists(Repository.PathTo(source[2..])), $"{name} mounts {source}, which does not exist");
                    else Assert.That(declared, Does.Contain(source), $"{name}: volume {source} is not declared");
                }
            }
        });
    }

    [Test]
    public void Each_concern_has_its_own_network()
    {
        var declared = ComposeFile.Read().Map("networks").Keys().ToList();
        Assert.Multiple(() =>
        {
            Assert.That(declared, Is.SupersetOf(new[] { "messaging", "data", "identity", "mail", "telemetry" }));
            foreach (var (name, service) in _services)
            {
                Assert.That(ComposeFile.Networks(service), Is.Not.Empty.And.SubsetOf(declared), $"{name} names its networks");
            }

            Assert.That(ComposeFile.Networks(_services["postgres"]), Is.EqualTo(new[] { "data" }));
            Assert.That(ComposeFile.Networks(_services["keycloak"]), Is.EqualTo(new[] { "identity" }));
            // Only what sends e-mail is on the mail network.
            Assert.That(_services.Where(s => ComposeFile.Networks(s.Value).Contains("mail")).Select(s => s.Key),
                Is.EquivalentTo(SystemTopology.Endpoints.Where(e => e.SendsMail).Select(e => e.Name).Append("mailpit")));
        });
    }

    [Test]
    public void The_processes_are_configured_through_the_environment_without_a_literal_secret()
    {
        Assert.Multiple(() =>
        {
            foreach (var process in ComposeFile.Processes)
            {
                var environment = ComposeFile.Environment(_services[process]);
                Assert.That(environment["ConnectionStrings__Database"], Does.Contain($"Host=postgres;").And.Contain($"Database={process};Username={process};Password=${{"));
                Assert.That(environment["ConnectionStrings__RabbitMq"], Does.StartWith($"amqp://{process}:${{").And.EndWith("@rabbitmq:5672/conveyor"));
                Assert.That(environment["Authentication__Authority"], Is.EqualTo("http://keycloak:8080/realms/conveyor"));
                Assert.That(environment["Conveyor__Telemetry__OtlpEndpoint"], Is.EqualTo("http://otel-collector:4318"));
            }

            foreach (var (name, service) in _services)
            {
                foreach (var (key, value) in ComposeFile.Environment(service).Where(e => Regex.IsMatch(e.Key, "(?i)password|secret")))
                {
                    Assert.That(value, Does.Match(@"^\$\{[A-Z_]+:-[^}]*\}$"), $"{name}: {key} is a literal, not a variable with a local development default");
                }
            }
        });
    }

    [Test]
    public void Prometheus_scrapes_the_services_by_their_names_on_its_network()
    {
        var prometheus = Yaml.Parse(Repository.Read("deploy", "prometheus", "prometheus.yml"));
        var targets = prometheus.List("scrape_configs")
            .SelectMany(job => job.List("static_configs"))
            .SelectMany(config => config.List("targets"))
            .Select(t => t!.ToString()!.Split(':'))
            .ToList();
        Assert.Multiple(() =>
        {
            Assert.That(targets.Select(t => t[0]), Is.SupersetOf(ComposeFile.Processes.Append("rabbitmq")));
            foreach (var target in targets)
            {
                Assert.That(_services, Does.ContainKey(target[0]), $"{target[0]} is not a compose service");
                Assert.That(ComposeFile.Networks(_services[target[0]]), Does.Contain("telemetry"), $"Prometheus cannot reach {target[0]}");
                if (ComposeFile.Processes.Contains(target[0])) Assert.That(target[1], Is.EqualTo("8081"), "the processes answer /metrics on their management port, 8081, in their containers");
            }
        });
    }

    [Test]
    public void Keycloak_imports_the_realm_and_the_processes_trust_one_issuer()
    {
        var keycloak = _services["keycloak"];
        Assert.Multiple(() =>
        {
            Assert.That(keycloak.List("command"), Is.EqualTo(new object[] { "start-dev", "--import-realm" }));
            Assert.That(keycloak.List("volumes"), Does.Contain("./deploy/keycloak:/opt/keycloak/data/import:ro"));
            // The browser and curl get tokens from localhost:8180; the processes fetch keys from keycloak:8080.
            Assert.That(ComposeFile.Environment(keycloak)["KC_HOSTNAME"], Does.Contain("http://localhost:8180"));
            Assert.That(ComposeFile.Environment(keycloak)["KC_HOSTNAME_BACKCHANNEL_DYNAMIC"], Is.EqualTo("true"));
            Assert.That(ComposeFile.PublishedPorts(keycloak), Is.EqualTo(new[] { 8180 }));
            // Pulse's sign-in comes back to a redirect URI the realm allows.
            var pulsePort = ComposeFile.PublishedPorts(_services[SystemTopology.ServiceControl.Name]).Single();
            Assert.That(Repository.Read("deploy", "keycloak", "conveyor-realm.json"), Does.Contain($"http://localhost:{pulsePort}/signin-oidc"));
        });
    }

    [Test]
    public void It_has_no_top_level_name_for_docker_compose_1_29()
    {
        Assert.That(ComposeFile.Read().Keys(), Has.None.EqualTo("name").And.None.EqualTo("version"));
    }
}
