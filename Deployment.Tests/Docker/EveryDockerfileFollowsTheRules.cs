using System.Text.RegularExpressions;
using Deployment.Tests.Infrastructure;

namespace Deployment.Tests.Docker;

/// <summary>The hadolint-style rules that matter for these images, asserted on every Dockerfile.</summary>
public partial class EveryDockerfileFollowsTheRules
{
    public static IEnumerable<string> Dockerfiles => Dockerfile.All();

    public static IEnumerable<string> DotNetDockerfiles => Dockerfile.DotNet();

    public static IEnumerable<string> NodeDockerfiles => Dockerfile.Node();

    /// <summary>One image per process, the development identity provider included.</summary>
    [Test]
    public void Every_process_has_a_Dockerfile()
    {
        Assert.That(Dockerfile.All(), Is.EquivalentTo(new[]
        {
            "Endpoints/Inventory/Dockerfile",
            "Endpoints/Notifications/Dockerfile",
            "Endpoints/Orders/Dockerfile",
            "Endpoints/Payments/Dockerfile",
            "ServiceControl/Dockerfile",
            "tools/IdentityProvider/Dockerfile",
        }));
    }

    [TestCaseSource(nameof(Dockerfiles))]
    public void Every_base_image_has_a_pinned_tag(string path)
    {
        foreach (var stage in Dockerfile.Read(path).Stages)
        {
            // Not "latest", not untagged, not a bare major/minor version that moves: a full x.y.z patch tag (with the
            // distribution it is built on, where the image names one: node:20.20.2-bookworm-slim).
            var match = ImageReference().Match(stage.Image);
            Assert.That(match.Success, $"{path}: FROM {stage.Image} has no tag");
            Assert.That(match.Groups["tag"].Value, Does.Match(@"^\d+\.\d+\.\d+(-[a-z]+)*$"), $"{path}: FROM {stage.Image} is not pinned to a patch version");
        }
    }

    [TestCaseSource(nameof(DotNetDockerfiles))]
    public void It_builds_in_the_sdk_and_runs_on_the_aspnet_runtime(string path)
    {
        var dockerfile = Dockerfile.Read(path);
        Assert.Multiple(() =>
        {
            Assert.That(dockerfile.Stages, Has.Count.GreaterThanOrEqualTo(2), $"{path}: multi-stage");
            Assert.That(dockerfile.Stages[0].Image, Does.StartWith("mcr.microsoft.com/dotnet/sdk:"));
            Assert.That(dockerfile.Final.Image, Does.StartWith("mcr.microsoft.com/dotnet/aspnet:"));
            Assert.That(dockerfile.Final.All("COPY").Select(c => c.Arguments), Is.All.StartsWith("--from="), $"{path}: the final stage takes only the build output");
        });
    }

    [TestCaseSource(nameof(NodeDockerfiles))]
    public void A_Node_image_installs_its_locked_production_packages_before_copying_the_sources(string path)
    {
        var dockerfile = Dockerfile.Read(path);
        var build = dockerfile.Stages[0].Instructions;
        var install = build.ToList().FindIndex(i => i.Keyword == "RUN" && i.Arguments.StartsWith("npm ci", StringComparison.Ordinal));
        Assert.That(install, Is.GreaterThan(0), $"{path}: a RUN npm ci of its own layer");
        var copiedBefore = build.Take(install).Where(i => i.Keyword == "COPY").SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1]);
        Assert.Multiple(() =>
        {
            Assert.That(copiedBefore, Is.All.Match(@"(package\.json|package-lock\.json)$"), $"{path}: only the package files before the install, or every source edit invalidates it");
            Assert.That(build[install].Arguments, Does.Contain("--omit=dev"), $"{path}: no test tools in the image");
            Assert.That(dockerfile.Stages.Select(s => s.Image), Is.All.StartWith("node:"), $"{path}: built and run on the Node.js image");
            Assert.That(dockerfile.Final.All("COPY").Select(c => c.Arguments), Is.All.StartsWith("--from="), $"{path}: the final stage takes only the build stage's files");
        });
    }

    [TestCaseSource(nameof(DotNetDockerfiles))]
    public void It_restores_from_the_project_files_before_copying_the_sources(string path)
    {
        var build = Dockerfile.Read(path).Stages[0].Instructions;
        var restore = build.ToList().FindIndex(i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet restore", StringComparison.Ordinal));
        Assert.That(restore, Is.GreaterThan(0), $"{path}: a RUN dotnet restore of its own layer");
        var copiedBefore = build.Take(restore).Where(i => i.Keyword == "COPY").SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1]);
        Assert.That(copiedBefore, Is.All.Match(@"(\.csproj|\.props|\.targets|global\.json)$"), $"{path}: only project files before the restore, or every source edit invalidates it");
        var publish = build.Single(i => i.Keyword == "RUN" && i.Arguments.StartsWith("dotnet publish", StringComparison.Ordinal)).Arguments;
        Assert.That(publish, Does.Contain("-c Release").And.Contain("--no-restore"));
    }

    [TestCaseSource(nameof(Dockerfiles))]
    public void It_runs_as_a_non_root_user(string path)
    {
        var user = Dockerfile.Read(path).Final.Last("USER")?.Arguments;
        Assert.That(user, Is.Not.Null, $"{path}: the final stage sets no USER, so it runs as root");
        Assert.That(user!.Split(':')[0], Is.Not.EqualTo("root").And.Not.EqualTo("0"), $"{path}: USER {user}");
    }

    [TestCaseSource(nameof(Dockerfiles))]
    public void It_exposes_only_its_ports_and_checks_its_liveness_there(string path)
    {
        var dockerfile = Dockerfile.Read(path);
        var exposed = dockerfile.Final.All("EXPOSE").SelectMany(e => e.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        var healthCheck = string.Join(' ', dockerfile.HealthCheck);
        // An endpoint's image has a management port too (/metrics, /health/details); the development provider has not.
        var management = dockerfile.Final.All("ENV").Select(e => e.Arguments).FirstOrDefault(a => a.StartsWith("Conveyor__Management__Port=", StringComparison.Ordinal))?.Split('=')[1];
        var endpoint = !path.StartsWith("tools/", StringComparison.Ordinal);
        Assert.Multiple(() =>
        {
            Assert.That(management is not null, Is.EqualTo(endpoint), $"{path}: an endpoint sets Conveyor__Management__Port, nothing else does");
            Assert.That(exposed, Is.EqualTo(management is null ? new[] { "8080" } : new[] { "8080", management }), $"{path}: EXPOSE its port (and its management port), nothing else");
            Assert.That(dockerfile.Final.All("ENV").Select(e => e.Arguments), Has.Some.EqualTo("Urls=http://+:8080"), $"{path}: the process listens on the port it exposes");
            Assert.That(healthCheck, Does.Contain("/dev/tcp/127.0.0.1/8080").And.Contain("GET /health/live "), $"{path}: HEALTHCHECK on /health/live");
        });
    }

    [TestCaseSource(nameof(Dockerfiles))]
    public void It_bakes_in_no_secret(string path)
    {
        var dockerfile = Dockerfile.Read(path);
        var settings = dockerfile.Stages.SelectMany(s => s.Instructions).Where(i => i.Keyword is "ENV" or "ARG").Select(i => i.Arguments);
        Assert.That(settings, Has.None.Match("(?i)(password|secret|token|connectionstrings)"), $"{path}: secrets come from the environment at run time");
    }

    [Test]
    public void The_dockerignore_keeps_build_output_and_local_state_out_of_the_context()
    {
        var ignore = DockerIgnore.Read();
        Assert.Multiple(() =>
        {
            Assert.That(ignore.Patterns, Has.None.StartWith("!"), "negated patterns are not supported by the build simulation");
            foreach (var path in new[] { "Hosting/bin/Release/x.dll", "Endpoints/Orders/obj/project.assets.json", ".artifacts/tools/helm/helm", ".git/HEAD" })
            {
                Assert.That(ignore.Ignores(path), $"{path} is sent to the Docker daemon");
            }

            foreach (var path in new[] { "Hosting/Conveyor.Hosting.csproj", "Endpoints/Orders/Program.cs", "deploy/keycloak/conveyor-realm.json", "ServiceControl/wwwroot/pulse.css" })
            {
                Assert.That(ignore.Ignores(path), Is.False, $"{path} is left out of the context");
            }
        });
    }

    [GeneratedRegex(@"^[^:@\s]+(:(?<tag>[^@\s]+))")]
    private static partial Regex ImageReference();
}
