using System.Text.RegularExpressions;
using Integration.Tests.System;
using Microsoft.Playwright;

namespace Integration.Tests.Pulse;

/// <summary>
/// Pulse's sign-in through the identity provider's login page (authorization code flow with PKCE), its
/// roles (support reads, ops acts, a customer is not let in) and sign-out, in a real browser.
/// </summary>
public class PulseSignsOperatorsIn : PulseFixture
{
    private static Regex Exactly(string url) => new($"^{Regex.Escape(url)}$");

    [Test]
    public async Task An_unauthenticated_visit_is_sent_to_the_login_page_and_comes_back_signed_in()
    {
        var page = await NewSessionAsync();
        await page.GotoAsync("/failed");

        await Expect(page).ToHaveURLAsync(new Regex($"^{Regex.Escape(LoginPage)}"));
        await Screenshot("pulse-sign-in", page);
        await SignInAsync(page, "olivia");

        await Expect(page).ToHaveURLAsync(Exactly($"{RunningSystem.ServiceControlApi}failed"));
        await Expect(page.Locator("[data-test=operator]")).ToHaveTextAsync("olivia");
        await Expect(page.Locator("[data-test=retry-all]")).ToBeVisibleAsync();
    }

    [Test]
    public async Task A_wrong_password_is_refused_on_the_login_page()
    {
        var page = await NewSessionAsync();
        await page.GotoAsync("/");

        await SignInAsync(page, "olivia", password: "not-her-password");

        await Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync("Invalid username or password.");
        await Expect(page).ToHaveURLAsync(new Regex($"^{Regex.Escape(LoginPage)}"));
    }

    [Test]
    public async Task Support_reads_pulse_without_actions_and_a_forged_action_is_refused()
    {
        var page = await NewSessionAsync();
        await page.GotoAsync("/failed/messages");
        await SignInAsync(page, "sam");

        await Expect(page.Locator("[data-test=operator]")).ToHaveTextAsync("sam");
        await Expect(page.Locator("[data-test=messages]")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-test=retry-selected]")).ToHaveCountAsync(0);

        // The page's own form (with its antiforgery token) posted to an action handler, as a crafted request would.
        await page.EvaluateAsync("() => { const form = document.getElementById('selection'); form.action = '?handler=RetrySelected'; form.submit(); }");

        await Expect(page.Locator("[data-test=access-denied]")).ToBeVisibleAsync();
    }

    [Test]
    public async Task A_customer_is_not_let_into_pulse()
    {
        var page = await NewSessionAsync();
        await page.GotoAsync("/");
        await SignInAsync(page, "alice");

        await Expect(page.Locator("[data-test=access-denied]")).ToContainTextAsync("alice may not do this");
        await Expect(page.Locator("[data-test=failed-count]")).ToHaveCountAsync(0);
    }

    [Test]
    public async Task Signing_out_ends_the_pulse_session_and_the_provider_session()
    {
        var page = await NewSessionAsync();
        await page.GotoAsync("/");
        await SignInAsync(page, "olivia");
        await Expect(page.Locator("[data-test=operator]")).ToHaveTextAsync("olivia");

        await page.Locator("[data-test=sign-out]").ClickAsync();

        // Back at Pulse, which sends a visitor without a session to the login page: the provider did not
        // sign her straight in again, so its session ended too.
        await Expect(page).ToHaveURLAsync(new Regex($"^{Regex.Escape(LoginPage)}"));
        await page.GotoAsync("/endpoints");
        await Expect(page).ToHaveURLAsync(new Regex($"^{Regex.Escape(LoginPage)}"));
    }
}
