using System.Net.Http.Json;
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
    private IBrowserContext _context = null!;

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
        _context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = RunningSystem.ServiceControlApi.ToString(),
            ViewportSize = new ViewportSize { Width = 1300, Height = 900 },
        });
        // Deadlines for what the operator waits to see (a failure arriving, a live refresh), not delays.
        _context.SetDefaultTimeout(30_000);
        Assertions.SetDefaultExpectTimeout(30_000);
        Page = await _context.NewPageAsync();
        // Every action asks for confirmation; the operator says yes.
        Page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        ServiceControl = ServiceControlClient.ForRunningSystem();
        PaymentsAdmin = Tokens.ClientAs("olivia", RunningSystem.PaymentsApi);
    }

    [OneTimeTearDown]
    public async Task CloseTheBrowser()
    {
        if (_context is not null) await _context.CloseAsync();
        if (_browser is not null) await _browser.CloseAsync();
        _playwright?.Dispose();
        ServiceControl?.Dispose();
        PaymentsAdmin?.Dispose();
    }

    protected static ILocatorAssertions Expect(ILocator locator) => Assertions.Expect(locator);

    protected Task SetProviderOutage(bool active) => PaymentsAdmin.PutAsJsonAsync("/admin/provider-outage", new { active });

    protected async Task Screenshot(string name)
    {
        var folder = Path.Combine(RunningSystem.FindRepositoryRoot(), ".artifacts", "screenshots");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"{name}.png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
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
