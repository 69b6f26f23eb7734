using Conveyor.Topology;
using System.Net;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;

namespace Integration.Tests.Pulse;

/// <summary>
/// Pulse's session as the cookie alone sees it (no provider session to sign back in silently): it survives a restart
/// of ServiceControl, because the keys protecting it are in ServiceControl's database; it ends after its lifetime
/// however often it is used, though its access token is renewed along the way; and it ends as soon as the provider
/// refuses to renew the token of a disabled user. Here the lifetime is 45 s (8 h by default).
/// </summary>
public class PulseSessionsEnd : PulseFixture
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Pulse__SessionLifetime"] = "00:00:45",
    };

    private static bool SignedIn(HttpResponseMessage response) => response.StatusCode == HttpStatusCode.OK;

    private static bool SentToTheProvider(HttpResponseMessage response) =>
        response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location?.ToString().StartsWith(RunningSystem.Authority.ToString(), StringComparison.Ordinal) == true;

    [Test, Order(1)]
    public async Task A_session_survives_a_restart_of_ServiceControl()
    {
        using var pulse = await WithPulseCookiesAsync();
        var before = await pulse.GetAsync("/");

        await System.StopAsync(SystemTopology.ServiceControl.Name);
        await System.StartAgainAsync(SystemTopology.ServiceControl.Name);
        var after = await pulse.GetAsync("/");
        // Where the keys are: a pod's disk would lose them at every rollout (the local run's home folder would not).
        var keys = await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select count(*) from data_protection_keys");

        Assert.Multiple(() =>
        {
            Assert.That(keys, Is.GreaterThan(0), "the session keys are in ServiceControl's database");
            Assert.That(SignedIn(before), before.StatusCode.ToString());
            Assert.That(SignedIn(after), $"after the restart: {after.StatusCode} {after.Headers.Location}");
        });
    }

    [Test, Order(2)]
    public async Task However_often_Pulse_is_used_its_session_ends_after_its_lifetime_and_the_provider_is_asked_again()
    {
        using var pulse = await WithPulseCookiesAsync();

        // Pulse's own refresh asks every 3 s; a sliding session would be renewed by it for ever.
        var ended = await TestEnvironment.Eventually(() => pulse.GetAsync("/"), SentToTheProvider,
            "the session to end (a redirect to the provider)", TimeSpan.FromSeconds(120));

        Assert.That(ended.Headers.Location!.AbsolutePath, Does.EndWith("/protocol/openid-connect/auth"));
    }

    [Test, Order(3)]
    public async Task An_operator_disabled_at_the_provider_is_signed_out_once_the_access_token_is_renewed()
    {
        using var pulse = await WithPulseCookiesAsync(await SignedInSessionAsync("sam"));
        // Renewed while the user is enabled: the access token (5 s here) is renewed and the cookie re-issued with it.
        var renewed = await TestEnvironment.Eventually(() => pulse.GetAsync("/"), r => SignedIn(r) && r.Headers.TryGetValues("Set-Cookie", out var set) && set.Any(c => c.StartsWith("conveyor-pulse", StringComparison.Ordinal)),
            "Pulse to renew the access token and carry on", TimeSpan.FromSeconds(30));
        var stillIn = await pulse.GetAsync("/");

        HttpResponseMessage ended;
        await using (TestRealm.DisableUser("sam"))
        {
            // Within one access token lifetime (the realm's 5 minutes; the test realm's 5 s) of the change.
            ended = await TestEnvironment.Eventually(() => pulse.GetAsync("/"), SentToTheProvider, "the disabled operator's session to end", TimeSpan.FromSeconds(30));
        }

        Assert.Multiple(() =>
        {
            Assert.That(SignedIn(renewed) && SignedIn(stillIn), "an enabled operator's session outlives its access tokens");
            Assert.That(ended.Headers.Location!.AbsolutePath, Does.EndWith("/protocol/openid-connect/auth"), "sent to sign in again, where a disabled user cannot");
        });
    }

    [Test, Order(4)]
    public async Task An_operator_whose_ops_role_is_removed_loses_the_actions_once_the_access_token_is_renewed()
    {
        using var pulse = await WithPulseCookiesAsync(await SignedInSessionAsync("olivia"));
        static async Task<string> FailedPageAsync(HttpClient pulse) => await (await pulse.GetAsync("/failed")).Content.ReadAsStringAsync();
        var withOps = await FailedPageAsync(pulse);

        string withoutOps;
        HttpResponseMessage stillIn;
        await using (TestRealm.SetRoles("olivia", "support"))
        {
            withoutOps = await TestEnvironment.Eventually(() => FailedPageAsync(pulse), html => !html.Contains("data-test=\"retry-all\"", StringComparison.Ordinal),
                "Pulse to drop the actions of an operator without ops", TimeSpan.FromSeconds(30));
            stillIn = await pulse.GetAsync("/");
        }

        Assert.Multiple(() =>
        {
            Assert.That(withOps, Does.Contain("data-test=\"retry-all\""), "with ops, Pulse offers the actions");
            Assert.That(withoutOps, Does.Contain("Failed messages"), "still signed in, as support");
            Assert.That(SignedIn(stillIn), "a support user may still read Pulse");
        });
    }
}
