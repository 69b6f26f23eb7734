using System.Diagnostics;

namespace Integration.Tests.Infrastructure;

/// <summary>A program the tests start (the identity provider, the Aspire Dashboard, Prometheus), ready once its URL answers.</summary>
public sealed class ExternalProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _name;

    private ExternalProcess(string name, Process process)
    {
        _name = name;
        _process = process;
    }

    public static async Task<ExternalProcess> StartAsync(string name, string fileName, IEnumerable<string> arguments, Uri ready,
        IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) TestContext.Progress.WriteLine($"{name}: {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var started = new ExternalProcess(name, process);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            await TestEnvironment.Eventually(async () =>
            {
                if (process.HasExited) Assert.Fail($"{name} exited with code {process.ExitCode}");
                try { return (await http.GetAsync(ready)).IsSuccessStatusCode; }
                catch (HttpRequestException) { return false; }
                catch (TaskCanceledException) { return false; }
            }, answers => answers, $"{name} to answer {ready}", TimeSpan.FromSeconds(60));
        }
        catch
        {
            await started.DisposeAsync();
            throw;
        }

        return started;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM first: Prometheus and the dashboard shut down cleanly on it.
            Process.Start("kill", ["-TERM", _process.Id.ToString()])?.WaitForExit();
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                TestContext.Progress.WriteLine($"{_name} ignored SIGTERM; killing it");
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
        }

        _process.Dispose();
    }
}
