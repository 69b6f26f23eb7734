using System.Diagnostics;
using Integration.Tests.System;

namespace Integration.Tests.Observability;

/// <summary>
/// promtool on deploy/prometheus: both scrape configurations and the alert rules are valid, and the rules'
/// unit tests (tests/conveyor-alerts.test.yml) pass — each alert fires on what should raise it and not otherwise.
/// </summary>
public class ThePrometheusRulesHold
{
    private const string Promtool = "/usr/bin/promtool";
    private static readonly string Folder = Path.Combine(RunningSystem.FindRepositoryRoot(), "deploy", "prometheus");

    [SetUp]
    public void RequirePromtool()
    {
        if (!File.Exists(Promtool)) Assert.Ignore($"{Promtool} is not installed (apt-get install prometheus; ./build.sh test installs it).");
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Promtool, arguments) { WorkingDirectory = Folder, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await errors);
    }

    [TestCase("local.yml")]
    [TestCase("prometheus.yml")]
    public async Task The_scrape_configuration_is_valid(string file)
    {
        var (exitCode, output) = await RunAsync("check", "config", file);
        Assert.That(exitCode, Is.Zero, output);
    }

    [Test]
    public async Task The_alert_rules_are_valid()
    {
        var (exitCode, output) = await RunAsync(["check", "rules", .. Directory.GetFiles(Path.Combine(Folder, "rules"), "*.yml")]);
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.Zero, output);
            Assert.That(output, Does.Contain("SUCCESS: 6 rules found"));
        });
    }

    [Test]
    public async Task The_alert_rule_unit_tests_pass()
    {
        var (exitCode, output) = await RunAsync("test", "rules", Path.Combine("tests", "conveyor-alerts.test.yml"));
        Assert.That(exitCode, Is.Zero, output);
    }
}
