using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Deployment.Tests.Infrastructure;

namespace Deployment.Tests.Docker;

/// <summary>
/// The images' HEALTHCHECK speaks HTTP through bash's /dev/tcp (the aspnet image has no curl). Run here, as
/// the Dockerfile has it, against a real Conveyor process — the identity provider, which needs no broker or
/// database — it passes while the process answers /health/live and fails once it is gone.
/// </summary>
public class TheHealthCheckProbesAProcess
{
    [Test]
    public async Task It_passes_while_the_process_answers_and_fails_when_it_is_gone()
    {
        var port = FreePort();
        var probe = Dockerfile.Read("tools/IdentityProvider/Dockerfile").HealthCheck
            .Select(argument => argument.Replace("/dev/tcp/127.0.0.1/8080", $"/dev/tcp/127.0.0.1/{port}"))
            .ToArray();
        Assert.That(probe, Has.Length.GreaterThan(1), "the Dockerfile's HEALTHCHECK in exec form");

        using (var provider = await StartIdentityProviderAsync(port))
        {
            var healthy = await Command.RunAsync(probe[0], probe[1..], timeout: TimeSpan.FromSeconds(90));
            Assert.That(healthy.ExitCode, Is.Zero, healthy.ToString());
        }

        var gone = await Command.RunAsync(probe[0], probe[1..], timeout: TimeSpan.FromSeconds(90));
        Assert.That(gone.ExitCode, Is.Not.Zero, "the probe passed with nothing listening");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The solution's build of the provider, ready once it logs that it listens (no polling).</summary>
    private static async Task<RunningProcess> StartIdentityProviderAsync(int port)
    {
        var output = Repository.PathTo("tools", "IdentityProvider", "bin", Repository.Configuration, "net10.0");
        var dll = Path.Combine(output, "Conveyor.IdentityProvider.dll");
        if (!File.Exists(dll)) Assert.Fail($"{dll} is not built; build the solution first (./build.sh build).");
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = output,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["Urls"] = $"http://127.0.0.1:{port}";
        // A development component: it refuses to start in any other environment.
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        var process = Process.Start(start)!;
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) => { if (e.Data?.Contains("Now listening on", StringComparison.Ordinal) == true) listening.TrySetResult(); };
        process.ErrorDataReceived += (_, _) => { };
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException($"the identity provider exited with code {process.ExitCode}"));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var running = new RunningProcess(process);
        try
        {
            await listening.Task.WaitAsync(TimeSpan.FromSeconds(120));
        }
        catch
        {
            running.Dispose();
            throw;
        }

        return running;
    }

    /// <summary>The process this test started, stopped (by its own id) and awaited when disposed.</summary>
    private sealed class RunningProcess(Process process) : IDisposable
    {
        public void Dispose()
        {
            if (!process.HasExited) process.Kill();
            process.WaitForExit();
            process.Dispose();
        }
    }
}
