using System.Diagnostics;
using System.Net;
using System.Reflection;
using Duende.IdentityModel.Client;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;

namespace Integration.Tests.Security;

/// <summary>
/// The local provider as a client that knows only the realm URL sees it: Duende.IdentityModel, a standard OpenID
/// Connect client library, discovers it with its strict default policy (the document's issuer must be the URL it was
/// asked at, every endpoint under it), gets a token with the realm's development user and calls the API with it.
/// And it is a development component: outside Development it refuses to start.
/// </summary>
public class AStandardClientFindsTheProviderFromTheRealmUrl : SystemFixture
{
    [Test]
    public async Task It_discovers_the_provider_from_the_realm_url_and_its_token_opens_the_API()
    {
        using var http = new HttpClient();
        var discovery = await http.GetDiscoveryDocumentAsync(RunningSystem.Authority.ToString().TrimEnd('/'));
        Assert.That(discovery.IsError, Is.False, discovery.Error);

        var token = await http.RequestPasswordTokenAsync(new PasswordTokenRequest
        {
            Address = discovery.TokenEndpoint, ClientId = "conveyor-cli", UserName = "alice", Password = "alice-dev-only", Scope = "openid conveyor-api",
        });
        Assert.That(token.IsError, Is.False, token.Error);

        using var api = new HttpClient { BaseAddress = RunningSystem.OrdersApi };
        api.SetBearerToken(token.AccessToken!);
        var withToken = await api.GetAsync($"/orders/{Guid.NewGuid()}");
        using var anonymous = new HttpClient { BaseAddress = RunningSystem.OrdersApi };
        var withoutToken = await anonymous.GetAsync($"/orders/{Guid.NewGuid()}");

        Assert.Multiple(() =>
        {
            Assert.That(discovery.Issuer, Is.EqualTo(RunningSystem.Authority.ToString().TrimEnd('/')), "the issuer is the realm URL");
            Assert.That(withToken.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), "signed in: an unknown order");
            Assert.That(withoutToken.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        });
    }

    [Test]
    public async Task Outside_Development_the_local_provider_refuses_to_start()
    {
        var configuration = typeof(LocalIdentityProvider).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;
        var output = Path.Combine(RunningSystem.FindRepositoryRoot(), "tools", "IdentityProvider", "bin", configuration, "net10.0");
        var start = new ProcessStartInfo("dotnet", [Path.Combine(output, "Conveyor.IdentityProvider.dll")])
        {
            WorkingDirectory = output, RedirectStandardError = true, RedirectStandardOutput = true,
            Environment = { ["ASPNETCORE_ENVIRONMENT"] = "Production", ["Urls"] = "http://127.0.0.1:15079" },
        };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(deadline.Token);

        Assert.Multiple(async () =>
        {
            Assert.That(process.ExitCode, Is.EqualTo(2));
            Assert.That(await error, Does.Contain("development component").And.Contain("Production"));
        });
    }
}
