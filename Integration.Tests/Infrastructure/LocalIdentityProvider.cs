using System.Diagnostics;
using System.Reflection;
using Integration.Tests.System;

namespace Integration.Tests.Infrastructure;

/// <summary>The local OpenID Connect provider (tools/IdentityProvider) as a real process on a test port.</summary>
public sealed class LocalIdentityProvider : IAsyncDisposable
{
    private readonly Process _process;

    private LocalIdentityProvider(Process process, Uri authority)
    {
        _process = process;
        Authority = authority;
    }

    /// <summary>Where clients find it, Keycloak-style: <c>{Authority}/.well-known/openid-configuration</c>.</summary>
    public Uri Authority { get; }

    public Uri TokenEndpoint => new($"{Authority}/protocol/openid-connect/token");

    public static async Task<LocalIdentityProvider> StartAsync(int port, string roleClaimShape = "flat")
    {
        var configuration = typeof(LocalIdentityProvider).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var output = Path.Combine(RunningSystem.FindRepositoryRoot(), "tools", "IdentityProvider", "bin", configuration, "net10.0");
        var start = new ProcessStartInfo("dotnet", [Path.Combine(output, "Conveyor.IdentityProvider.dll")])
        {
            WorkingDirectory = output,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["Urls"] = $"http://127.0.0.1:{port}";
        start.Environment["Realm__RoleClaimShape"] = roleClaimShape;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) TestContext.Progress.WriteLine($"identity provider: {e.Data}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var provider = new LocalIdentityProvider(process, new Uri($"http://127.0.0.1:{port}/realms/conveyor"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        await TestEnvironment.Eventually(async () =>
        {
            if (process.HasExited) Assert.Fail($"the identity provider exited with code {process.ExitCode}");
            try { return (await http.GetAsync($"http://127.0.0.1:{port}/health/ready")).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
            catch (TaskCanceledException) { return false; }
        }, ready => ready, $"the identity provider on port {port}", TimeSpan.FromSeconds(60));
        return provider;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
