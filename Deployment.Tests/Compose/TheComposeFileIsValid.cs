using Deployment.Tests.Infrastructure;

namespace Deployment.Tests.Compose;

/// <summary>Debian's docker-compose (1.29) validates the file offline: `config -q` needs no Docker engine.</summary>
public class TheComposeFileIsValid
{
    // docker-compose 1.29's `config` takes no --profile; it reads COMPOSE_PROFILES like `up` does.
    [TestCase("", TestName = "docker-compose config -q accepts the default stack")]
    [TestCase("observability", TestName = "docker-compose config -q accepts the observability profile")]
    public async Task Docker_compose_accepts_it(string profiles)
    {
        var result = await Command.RunAsync(Tools.DockerCompose, ["-f", "docker-compose.yml", "config", "-q"],
            environment: new Dictionary<string, string> { ["COMPOSE_PROFILES"] = profiles });
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
    }

    [Test]
    public async Task Docker_compose_refuses_a_broken_file()
    {
        // The check above can fail: the same file with one service's healthcheck misspelt is refused.
        var broken = Path.Combine(Directory.CreateTempSubdirectory("conveyor-compose-").FullName, "docker-compose.yml");
        File.WriteAllText(broken, Repository.Read("docker-compose.yml").Replace("  healthcheck:\n    test:", "  healthcheck:\n    tset:"));
        try
        {
            var result = await Command.RunAsync(Tools.DockerCompose, ["-f", broken, "config", "-q"]);
            Assert.That(result.ExitCode, Is.Not.Zero, result.ToString());
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(broken)!, recursive: true);
        }
    }
}
