using Conveyor.Notifications;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Integration.Tests.Notifications;

/// <summary>
/// Notifications' mailer against the real SMTP server (smtp4dev), through a TCP relay that counts and cuts
/// connections: e-mails share connections, and a connection the server closed loses no e-mail.
/// </summary>
public class SmtpConnectionsAreReused
{
    [SetUp]
    public void RequireTheSmtpServer() => TestEnvironment.RequireTcp("The SMTP catcher (smtp4dev)", "127.0.0.1", TestEnvironment.SmtpPort);

    private static SmtpMailer Mailer(TcpRelay relay, TimeProvider clock, int maxIdleConnections = 4) => new(
        Options.Create(new SmtpSettings
        {
            Host = "127.0.0.1", Port = relay.Port, From = "shop@example.com",
            MaxIdleConnections = maxIdleConnections, IdleTimeout = TimeSpan.FromSeconds(10),
        }),
        clock);

    private static Email EmailTo(string recipient) =>
        new(recipient, "Your order", "Thank you.", $"{Guid.NewGuid():N}@conveyor.test");

    private static string UniqueRecipient() => $"smtp-pool-{Guid.NewGuid():N}@example.com";

    private static Task Arrived(string recipient, int count) => TestEnvironment.Eventually(
        () => SmtpCatcher.MessagesTo(recipient), messages => messages.Count == count, $"{count} e-mail(s) to {recipient} at the SMTP server");

    [Test]
    public async Task A_run_of_emails_goes_over_one_connection()
    {
        await using var relay = new TcpRelay("127.0.0.1", TestEnvironment.SmtpPort);
        await using var mailer = Mailer(relay, TimeProvider.System);
        var recipient = UniqueRecipient();

        for (var i = 0; i < 3; i++) await mailer.SendAsync(EmailTo(recipient), CancellationToken.None);

        await Arrived(recipient, 3);
        Assert.That(relay.Accepted, Is.EqualTo(1));
    }

    [Test]
    public async Task A_connection_the_server_closed_is_replaced_and_no_email_is_lost()
    {
        await using var relay = new TcpRelay("127.0.0.1", TestEnvironment.SmtpPort);
        await using var mailer = Mailer(relay, TimeProvider.System);
        var recipient = UniqueRecipient();
        await mailer.SendAsync(EmailTo(recipient), CancellationToken.None);

        relay.CutAll();
        await mailer.SendAsync(EmailTo(recipient), CancellationToken.None);

        await Arrived(recipient, 2);
        Assert.That(relay.Accepted, Is.EqualTo(2));
    }

    [Test]
    public async Task A_connection_idle_for_longer_than_the_timeout_is_not_reused()
    {
        var clock = new FakeTimeProvider();
        await using var relay = new TcpRelay("127.0.0.1", TestEnvironment.SmtpPort);
        await using var mailer = Mailer(relay, clock);
        var recipient = UniqueRecipient();
        await mailer.SendAsync(EmailTo(recipient), CancellationToken.None);

        clock.Advance(TimeSpan.FromSeconds(11));
        await mailer.SendAsync(EmailTo(recipient), CancellationToken.None);

        await Arrived(recipient, 2);
        Assert.That(relay.Accepted, Is.EqualTo(2));
    }

    [Test]
    public async Task With_no_idle_connections_allowed_each_email_opens_its_own()
    {
        await using var relay = new TcpRelay("127.0.0.1", TestEnvironment.SmtpPort);
        await using var mailer = Mailer(relay, TimeProvider.System, maxIdleConnections: 0);
        var recipient = UniqueRecipient();

        for (var i = 0; i < 2; i++) await mailer.SendAsync(EmailTo(recipient), CancellationToken.None);

        await Arrived(recipient, 2);
        Assert.That(relay.Accepted, Is.EqualTo(2));
    }
}
