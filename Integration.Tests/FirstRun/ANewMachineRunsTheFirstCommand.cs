using System.Diagnostics;
using Integration.Tests.System;

namespace Integration.Tests.FirstRun;

/// <summary>
/// The README's first command as a new user meets it: a clone in a private folder (a home directory, mktemp -d),
/// empty tool and package caches, and perhaps not root, perhaps without RabbitMQ or PostgreSQL. Each case runs
/// <c>./build.sh infra</c> (the tool restore of build.sh, then the infrastructure start and set-up every other
/// target shares) from such a clone of the committed repository.
/// </summary>
[NonParallelizable]
public class ANewMachineRunsTheFirstCommand
{
    private readonly List<DirectoryInfo> _made = [];

    [OneTimeSetUp]
    public void RequireRoot()
    {
        // Root to set the scene (other users, private folders, hidden packages); CI runs as root.
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root") Assert.Ignore("Setting up another user's machine needs root (./build.sh test runs as root in CI).");
        // Running already, so the clone's set-up meets them as a second checkout would (and starts nothing that
        // would outlive the clone).
        Infrastructure.TestEnvironment.RequireBrokerAndDatabase();
    }

    [OneTimeTearDown]
    public void RemoveWhatWasMade()
    {
        foreach (var folder in _made) folder.Delete(recursive: true);
    }

    [Test]
    public async Task From_a_private_clone_with_empty_caches_the_tools_restore_and_the_broker_and_database_are_set_up()
    {
        var (clone, caches) = await PrivateCloneAsync(owner: null);

        var run = await RunAsync(clone, caches, asUser: null, "./build.sh infra");

        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.Zero, run.Output);
            Assert.That(run.Output, Does.Contain("RabbitMQ").And.Contain("PostgreSQL"), "it says what it set up");
            Assert.That(run.Output, Does.Not.Contain("is not contained in the package"), "the tool restore did not race");
        });
    }

    [Test]
    public async Task Without_root_it_says_in_one_line_that_it_needs_root()
    {
        var (clone, caches) = await PrivateCloneAsync(owner: "nobody");

        var run = await RunAsync(clone, caches, asUser: "nobody", "./build.sh infra");

        AssertOneClearLine(run, "sudo ./build.sh infra");
    }

    [Test]
    public async Task Without_root_on_a_machine_without_RabbitMQ_and_PostgreSQL_it_says_in_one_line_what_to_install()
    {
        var (clone, caches) = await PrivateCloneAsync(owner: "nobody");

        // A machine without the two packages: their files hidden by empty file systems, in a mount namespace of
        // this command alone (the rest of the machine still has them).
        var run = await RunAsync(clone, caches, asUser: "nobody", "./build.sh infra",
            hide: ["/usr/sbin", "/usr/lib/rabbitmq", "/usr/lib/postgresql"]);

        AssertOneClearLine(run, "sudo apt-get install -y rabbitmq-server postgresql");
    }

    private static void AssertOneClearLine((int ExitCode, string Output) run, string advice)
    {
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Multiple(() =>
        {
            Assert.That(run.ExitCode, Is.EqualTo(1), run.Output);
            Assert.That(lines, Has.Length.EqualTo(1), "one line:\n" + run.Output);
            Assert.That(run.Output, Does.Contain(advice));
            Assert.That(run.Output, Does.Not.Contain("Line |").And.Not.Contain("   at "), "no PowerShell frame, no stack trace");
        });
    }

    /// <summary>A clone of the committed repository in a new 0700 folder, and new empty HOME, tool and package caches.</summary>
    private async Task<(string Clone, string Caches)> PrivateCloneAsync(string? owner)
    {
        var folder = Directory.CreateTempSubdirectory("conveyor-first-run-");
        _made.Add(folder);
        // mktemp -d's mode: nobody but its owner may enter (Directory.CreateTempSubdirectory makes it so already).
        if (OperatingSystem.IsLinux()) File.SetUnixFileMode(folder.FullName, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var clone = Path.Combine(folder.FullName, "conveyor");
        var cloned = await RunAsync(folder.FullName, null, null, $"git clone -q '{RunningSystem.FindRepositoryRoot()}' '{clone}'");
        Assert.That(cloned.ExitCode, Is.Zero, cloned.Output);
        var caches = Path.Combine(folder.FullName, "caches");
        Directory.CreateDirectory(caches);
        if (owner is not null) Assert.That((await RunAsync(folder.FullName, null, null, $"chown -R {owner} '{folder.FullName}'")).ExitCode, Is.Zero);
        return (clone, caches);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string directory, string? caches, string? asUser, string command, string[]? hide = null)
    {
        var script = command;
        if (caches is not null)
        {
            // The new user's own, empty caches: nothing restored before, nothing shared with this machine's.
            script = $"export HOME='{caches}/home' DOTNET_CLI_HOME='{caches}/cli' NUGET_PACKAGES='{caches}/nuget' DOTNET_NOLOGO=1; " +
                     $"mkdir -p \"$HOME\"; cd '{directory}' && {command}";
        }

        if (asUser is not null) script = $"exec setpriv --reuid={asUser} --regid=nogroup --clear-groups --reset-env bash -c {Quote($"export PATH='{Path.GetDirectoryName(Environment.ProcessPath)}:/usr/local/bin:/usr/bin:/bin'; {script}")}";
        if (hide is { Length: > 0 }) script = $"unshare --mount --propagation private bash -c {Quote(string.Join("; ", hide.Select(h => $"mount -t tmpfs hidden {h}")) + "; " + script)}";

        var start = new ProcessStartInfo("bash", ["-c", script])
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var all = (await output) + (await errors);
        TestContext.Progress.WriteLine($"{command} ({asUser ?? "root"}) exited {process.ExitCode}");
        return (process.ExitCode, all);
    }

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''") + "'";
}
