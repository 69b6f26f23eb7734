using System.Reflection;
using Integration.Tests.System;

namespace Integration.Tests.Infrastructure;

/// <summary>The local OpenID Connect provider (tools/IdentityProvider) as a real process on a test port.</summary>
public sealed class LocalIdentityProvider : IAsyncDisposable
{
    private readonly ExternalProcess _process;

    private LocalIdentityProvider(ExternalProcess process, Uri authority)
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
        var process = await ExternalProcess.StartAsync($"identity provider :{port}", "dotnet", [Path.Combine(output, "Conveyor.IdentityProvider.dll")],
            new Uri($"http://127.0.0.1:{port}/health/ready"),
            new Dictionary<string, string> { ["Urls"] = $"http://127.0.0.1:{port}", ["Realm__RoleClaimShape"] = roleClaimShape, ["ASPNETCORE_ENVIRONMENT"] = "Development" },
            output);
        return new LocalIdentityProvider(process, new Uri($"http://127.0.0.1:{port}/realms/conveyor"));
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
