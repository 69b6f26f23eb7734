using Conveyor.Topology;
using Deployment.Tests.Infrastructure;

namespace Deployment.Tests.Helm;

/// <summary>
/// `helm template` output: every document valid against its Kubernetes (or KEDA, Prometheus operator) schema
/// (Deployment.Tests/Kubernetes/validate-manifests.mjs), and the properties a production deployment relies
/// on asserted for every process.
/// </summary>
public class TheRenderedManifestsHold
{
    public static IEnumerable<TestCaseData> ValueSets =>
    [
        new TestCaseData((object)Array.Empty<string>()).SetArgDisplayNames("default values"),
        new TestCaseData((object)new[] { "-f", Chart.ProductionValues }).SetArgDisplayNames("production example"),
        new TestCaseData((object)new[] { "--set", "keda.enabled=true", "--set", "serviceMonitor.enabled=true", "--set", "telemetry.otlpEndpoint=http://collector:4318" }).SetArgDisplayNames("every option on"),
    ];

    [TestCaseSource(nameof(ValueSets))]
    public async Task Every_document_validates_against_its_schema(string[] values)
    {
        var rendered = await Chart.TemplateAsync(values);
        var result = await Command.RunAsync(Tools.Node, [Repository.PathTo("Deployment.Tests", "Kubernetes", "validate-manifests.mjs"), Tools.KubernetesSchemas], input: rendered);
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(result.Output, Does.Match(@"\d+ documents, 0 invalid"));
        });
    }

    [Test]
    public async Task The_schema_validation_catches_an_invalid_manifest()
    {
        var rendered = (await Chart.TemplateAsync()).Replace("containerPort: 8080", "containerPort: eighty");
        var result = await Command.RunAsync(Tools.Node, [Repository.PathTo("Deployment.Tests", "Kubernetes", "validate-manifests.mjs"), Tools.KubernetesSchemas], input: rendered);
        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Not.Zero);
            Assert.That(result.Output, Does.Contain("invalid Deployment/conveyor-orders").And.Contain("containerPort"));
        });
    }

    [TestCaseSource(nameof(ValueSets))]
    public async Task Every_process_has_a_deployment_service_configuration_disruption_budget_and_network_policy(string[] values)
    {
        var manifests = await Chart.RenderAsync(values);
        Assert.Multiple(() =>
        {
            foreach (var kind in new[] { "Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "NetworkPolicy" })
            {
                Assert.That(manifests.OfKind(kind).Select(m => m.Name()).Where(n => n != BrokerDefinitions), Is.EquivalentTo(Chart.Processes.Select(p => $"conveyor-{p}")), kind);
            }
        });
    }

    private const string BrokerDefinitions = "conveyor-broker-definitions";

    [TestCaseSource(nameof(ValueSets))]
    public async Task The_broker_is_set_up_from_the_generated_definitions_before_any_process_starts(string[] values)
    {
        var manifests = await Chart.RenderAsync(values);
        var definitions = manifests.OfKind("ConfigMap").Single(m => m.Name() == BrokerDefinitions);
        var job = manifests.OfKind("Job").Single(m => m.Name() == BrokerDefinitions);
        var passwords = job.Map("spec").Map("template").Map("spec").List("containers").Single().List("env")
            .Select(e => e.Text("name")).Where(n => n.EndsWith("_BROKER_PASSWORD", StringComparison.Ordinal));

        Assert.Multiple(() =>
        {
            Assert.That(definitions.Map("data")["broker-definitions.json"],
                Is.EqualTo(File.ReadAllText(Repository.PathTo("deploy", "helm", "conveyor", "files", "broker-definitions.json"))), "the generated file, as it is");
            Assert.That(definitions.Map("metadata").Map("annotations")["helm.sh/hook"], Is.EqualTo("pre-install,pre-upgrade"));
            Assert.That(job.Map("metadata").Map("annotations")["helm.sh/hook"], Is.EqualTo("pre-install,pre-upgrade"));
            Assert.That(passwords, Is.EquivalentTo(Chart.Processes.Select(p => $"CONVEYOR_{p.ToUpperInvariant()}_BROKER_PASSWORD")), "each process's own secret");
        });
    }

    [TestCaseSource(nameof(ValueSets))]
    public async Task Every_deployment_probes_its_health_limits_its_resources_and_runs_as_non_root(string[] values)
    {
        var deployments = (await Chart.RenderAsync(values)).OfKind("Deployment").ToList();
        Assert.That(deployments, Has.Count.EqualTo(Chart.Processes.Length));
        Assert.Multiple(() =>
        {
            foreach (var deployment in deployments)
            {
                var name = deployment.Name();
                var pod = deployment.Map("spec").Map("template").Map("spec");
                Assert.That(pod.Find("securityContext.runAsNonRoot"), Is.EqualTo("true"), $"{name}: runAsNonRoot");
                Assert.That(int.Parse(pod.Text("securityContext.runAsUser")), Is.GreaterThan(0), $"{name}: runAsUser");
                foreach (var container in pod.List("containers").Cast<Dictionary<object, object?>>())
                {
                    Assert.That(container.Text("livenessProbe.httpGet.path"), Is.EqualTo("/health/live"), $"{name}: liveness");
                    Assert.That(container.Text("readinessProbe.httpGet.path"), Is.EqualTo("/health/ready"), $"{name}: readiness");
                    Assert.That(container.Text("startupProbe.httpGet.path"), Is.EqualTo("/health/live"), $"{name}: startup");
                    Assert.That(new[] { "livenessProbe", "readinessProbe", "startupProbe" }.Select(p => container.Text($"{p}.httpGet.port")), Has.All.EqualTo("management"),
                        $"{name}: probes on the management port, which the ingress does not route");
                    Assert.That(container.Find("resources.limits.cpu"), Is.Not.Null, $"{name}: cpu limit");
                    Assert.That(container.Find("resources.limits.memory"), Is.Not.Null, $"{name}: memory limit");
                    Assert.That(container.Find("resources.requests.memory"), Is.Not.Null, $"{name}: memory request");
                    Assert.That(container.Find("securityContext.allowPrivilegeEscalation"), Is.EqualTo("false"), $"{name}: privilege escalation");
                    Assert.That(container.Find("securityContext.readOnlyRootFilesystem"), Is.EqualTo("true"), $"{name}: read-only root");
                    Assert.That(container.Text("image"), Does.Not.EndWith(":latest").And.Contain(":"), $"{name}: image tag");
                }
            }
        });
    }

    [TestCaseSource(nameof(ValueSets))]
    public async Task Secrets_come_from_secret_references_only(string[] values)
    {
        var manifests = await Chart.RenderAsync(values);
        Assert.Multiple(() =>
        {
            foreach (var configMap in manifests.OfKind("ConfigMap"))
            {
                Assert.That(configMap.Map("data").Keys(), Has.None.Match("(?i)password|secret"), configMap.Name());
            }

            foreach (var deployment in manifests.OfKind("Deployment"))
            {
                var environment = deployment.Map("spec").Map("template").Map("spec").List("containers").Cast<Dictionary<object, object?>>().SelectMany(c => c.List("env")).Cast<Dictionary<object, object?>>().ToList();
                foreach (var variable in environment.Where(v => v.Text("name").Contains("PASSWORD") || v.Text("name").Contains("Secret")))
                {
                    Assert.That(variable.Find("valueFrom.secretKeyRef.name"), Is.Not.Null, $"{deployment.Name()}: {variable.Text("name")} is not a secret reference");
                }

                // The connection strings carry the password only as the kubelet's $(VAR) reference.
                foreach (var variable in environment.Where(v => v.Text("name").StartsWith("ConnectionStrings__", StringComparison.Ordinal)))
                {
                    Assert.That(variable.Text("value"), Does.Contain("$(CONVEYOR_"), $"{deployment.Name()}: {variable.Text("name")}");
                }
            }
        });
    }

    [Test]
    public async Task Each_pod_caps_its_database_connections()
    {
        // Npgsql's default pool (100) per pod would let a few replicas (KEDA adds them) exhaust PostgreSQL's
        // 100 connections — the benchmark's two-instance run did exactly that.
        var manifests = await Chart.RenderAsync("--set", "postgresql.maxPoolSize=15");
        var connectionStrings = manifests.OfKind("Deployment")
            .SelectMany(d => d.Map("spec").Map("template").Map("spec").List("containers").Cast<Dictionary<object, object?>>().SelectMany(c => c.List("env")))
            .Cast<Dictionary<object, object?>>()
            .Where(v => v.Text("name") == "ConnectionStrings__Database")
            .Select(v => v.Text("value"))
            .ToList();
        Assert.That(connectionStrings, Has.Count.EqualTo(SystemTopology.Endpoints.Count).And.All.EndsWith(";Maximum Pool Size=15"));
    }

    [Test]
    public async Task With_KEDA_each_endpoint_scales_on_its_own_queue()
    {
        var manifests = await Chart.RenderAsync("--set", "keda.enabled=true");
        var authentication = manifests.OfKind("TriggerAuthentication").Single();
        var scaledObjects = manifests.OfKind("ScaledObject").ToList();
        Assert.Multiple(() =>
        {
            Assert.That(scaledObjects.Select(s => s.Name()), Is.EquivalentTo(Chart.Endpoints.Select(e => $"conveyor-{e}")), "one ScaledObject per endpoint, none for ServiceControl");
            foreach (var endpoint in Chart.Endpoints)
            {
                var scaled = scaledObjects.Single(s => s.Name() == $"conveyor-{endpoint}");
                var trigger = (Dictionary<object, object?>)scaled.Map("spec").List("triggers").Single()!;
                Assert.That(scaled.Text("spec.scaleTargetRef.name"), Is.EqualTo($"conveyor-{endpoint}"));
                Assert.That(trigger.Text("type"), Is.EqualTo("rabbitmq"));
                Assert.That(trigger.Text("metadata.queueName"), Is.EqualTo(endpoint));
                Assert.That(trigger.Text("metadata.mode"), Is.EqualTo("QueueLength"));
                Assert.That(trigger.Text("authenticationRef.name"), Is.EqualTo(authentication.Name()));
                // KEDA owns the replica count: a replicas field would fight it on every upgrade.
                Assert.That(manifests.OfKind("Deployment").Single(d => d.Name() == $"conveyor-{endpoint}").Find("spec.replicas"), Is.Null, endpoint);
            }

            Assert.That(authentication.Find("spec.secretTargetRef") as List<object?>, Has.Count.EqualTo(1), "the broker address comes from a Secret");
        });
    }

    [Test]
    public async Task Without_KEDA_nothing_needs_its_custom_resources()
    {
        var kinds = (await Chart.RenderAsync()).Select(m => m.Text("kind")).Distinct();
        Assert.That(kinds, Has.None.EqualTo("ScaledObject").And.None.EqualTo("TriggerAuthentication").And.None.EqualTo("ServiceMonitor"));
    }

    [Test]
    public async Task The_network_policies_let_each_process_reach_only_what_it_talks_to()
    {
        var policies = (await Chart.RenderAsync("-f", Chart.ProductionValues)).OfKind("NetworkPolicy").ToDictionary(p => p.Name()[("conveyor-".Length)..]);
        Assert.Multiple(() =>
        {
            foreach (var (process, policy) in policies)
            {
                var egress = policy.Map("spec").List("egress").Cast<Dictionary<object, object?>>().ToList();
                var ports = egress.SelectMany(rule => rule.List("ports")).Select(p => p.Text("port")).ToList();
                var expected = new List<string> { "53", "53", "5672", "5432", "443", "4318" };
                if (SystemTopology.Named(process).SendsMail) expected.Add("587");
                if (SystemTopology.Named(process).IsServiceControl) expected.Add("15672");
                Assert.That(ports, Is.EquivalentTo(expected), $"{process}: egress ports");
                Assert.That(policy.List("spec.policyTypes"), Is.EquivalentTo(new[] { "Ingress", "Egress" }), process);
                // The broker and the database are named by their namespaces in the production example.
                Assert.That(egress.Where(rule => rule.List("ports").Any(p => p.Text("port") is "5672" or "5432")), Is.All.Matches<Dictionary<object, object?>>(rule => rule.Find("to") is List<object?> { Count: > 0 }), process);
            }
        });
    }

    [Test]
    public async Task The_production_example_scrapes_with_a_service_monitor()
    {
        var monitor = (await Chart.RenderAsync("-f", Chart.ProductionValues)).OfKind("ServiceMonitor").Single();
        var endpoint = (Dictionary<object, object?>)monitor.Map("spec").List("endpoints").Single()!;
        Assert.Multiple(() =>
        {
            Assert.That(endpoint.Text("path"), Is.EqualTo("/metrics"));
            Assert.That(endpoint.Text("port"), Is.EqualTo("management"), "the management port, not the one behind the ingress");
        });
    }
}
