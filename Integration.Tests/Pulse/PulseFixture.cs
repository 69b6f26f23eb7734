using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;
using Microsoft.Playwright;

namespace Integration.Tests.Pulse;

/// <summary>
/// The running system with a real browser on Pulse: Debian's Chromium driven by Playwright (never a
/// downloaded browser). Screenshots go to <c>.artifacts/screenshots</c> and are attached to the test.
/// </summary>
public abstract class PulseFixture : SystemFixture
{
    private const string Chromium = "/usr/bin/chromium";

    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;
    private readonly List<IBrowserContext> _sessions = [];

    /// <summary>Olivia's browser, signed into Pulse: she has the ops role.</summary>
    protected IPage Page = null!;
    protected ServiceControlClient ServiceControl = null!;
    protected HttpClient PaymentsAdmin = null!;

    protected override void RequireMore()
    {
        if (!File.Exists(Chromium)) Assert.Ignore($"{Chromium} is not installed (apt-get install chromium; ./build.sh test installs it).");
    }

    [OneTimeSetUp]
    public async Task OpenTheBrowser()
    {
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        Assertions.SetDefaultExpectTimeout(30_000);
        Page = await NewSessionAsync();
        await Page.GotoAsync("/");
        await SignInAsync(Page, "olivia");
        await Expect(Page.Locator("[data-test=operator]")).ToHaveTextAsync("olivia");
        ServiceControl = ServiceControlClient.ForRunningSystem();
        PaymentsAdmin = Tokens.ClientAs("olivia", RunningSystem.PaymentsApi);
    }

    [OneTimeTearDown]
    public async Task CloseTheBrowser()
    {
        foreach (var session in _sessions) await session.CloseAsync();
        if (_browser is not null) await _browser.CloseAsync();
        _playwright?.Dispose();
        ServiceControl?.Dispose();
        PaymentsAdmin?.Dispose();
    }

    protected static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    protected static IPageAssertions Expect(IPage page) => Assertions.Expect(page);

    /// <summary>A browser session of its own (no cookies), on Pulse.</summary>
    protected async Task<IPage> NewSessionAsync()
    {
        var session = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = RunningSystem.ServiceControlApi.ToString(),
            ViewportSize = new ViewportSize { Width = 1300, Height = 900 },
        });
        _sessions.Add(session);
        // Deadlines for what the operator waits to see (a failure arriving, a live refresh), not delays.
        session.SetDefaultTimeout(30_000);
        var page = await session.NewPageAsync();
        // Every action asks for confirmation; the operator says yes.
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        return page;
    }

    /// <summary>A new browser session signed in to Pulse as <paramref name="user"/>.</summary>
    protected async Task<IPage> SignedInSessionAsync(string user)
    {
        var page = await NewSessionAsync();
        await page.GotoAsync("/");
        await SignInAsync(page, user);
        await Expect(page.Locator("[data-test=operator]")).ToHaveTextAsync(user);
        return page;
    }

    /// <summary>An HTTP client holding the Pulse cookies of <paramref name="page"/>'s session (Olivia's by default; with <paramref name="everyCookie"/>, every cookie the browser holds for Pulse, its antiforgery cookie too), following no redirect.</summary>
    protected async Task<HttpClient> WithPulseCookiesAsync(IPage? page = null, bool everyCookie = false)
    {
        var cookies = new CookieContainer();
        foreach (var cookie in await (page ?? Page).Context.CookiesAsync())
        {
            if (everyCookie || cookie.Name.StartsWith("conveyor-pulse", StringComparison.Ordinal)) cookies.Add(RunningSystem.ServiceControlApi, new global::System.Net.Cookie(cookie.Name, cookie.Value, cookie.Path));
        }

        Assert.That(cookies.Count, Is.GreaterThan(0), "signed in, the browser holds Pulse's session cookie");
        return new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false }) { BaseAddress = RunningSystem.ServiceControlApi };
    }

    /// <summary>On the identity provider's login page (where Pulse sent the browser), signs in as <paramref name="user"/>.</summary>
    protected static async Task SignInAsync(IPage page, string user, string? password = null)
    {
        await Expect(page).ToHaveURLAsync(new Regex($"^{Regex.Escape(LoginPage)}"));
        await page.Locator("#username").FillAsync(user);
        await page.Locator("#password").FillAsync(password ?? Tokens.PasswordOf(user));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    protected static string LoginPage => $"{RunningSystem.Authority}/login-actions/authenticate";

    protected Task SetProviderOutage(bool active) => PaymentsAdmin.PutAsJsonAsync("/admin/provider-outage", new { active });

    protected async Task Screenshot(string name, IPage? page = null)
    {
        var folder = Path.Combine(RunningSystem.FindRepositoryRoot(), ".artifacts", "screenshots");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"{name}.png");
        await (page ?? Page).ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.AddTestAttachment(path, name);
    }

    /// <summary>Opens a failed message from the groups page, as an operator would find it.</summary>
    protected async Task OpenFailedMessageFromTheGroups(Guid id, string groupTitle)
    {
        await Page.GotoAsync("/failed");
        await Page.GetByRole(AriaRole.Link, new() { Name = groupTitle, Exact = true }).ClickAsync();
        await Page.Locator($"tr[data-message='{id}'] a").ClickAsync();
        await Expect(Page.Locator("[data-test=status]")).ToBeVisibleAsync();
    }
}
