using System.Diagnostics;
using System.ComponentModel.DataAnnotations;
using Conveyor.Hosting;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using MimeKit;
using Wolverine;

namespace Conveyor.Notifications;

/// <summary>
/// An e-mail a handler decided to send. Returned as a Wolverine side effect, so the handler stays a pure
/// function and the sending happens inside the message's transaction, before the commit.
/// </summary>
public sealed record Email(string To, string Subject, string Body, string MessageId) : ISideEffect
{
    public Task ExecuteAsync(IMailer mailer, CancellationToken cancellationToken) => mailer.SendAsync(this, cancellationToken);
}

public interface IMailer
{
    Task SendAsync(Email email, CancellationToken cancellationToken);
}

public sealed class SmtpSettings
{
    [Required] public string Host { get; init; } = "";
    [Range(1, 65535)] public int Port { get; init; }
    [Required] public string From { get; init; } = "";
    public string? UserName { get; init; }
    public string? Password { get; init; }
    /// <summary>STARTTLS when the server offers it; the local catcher does not.</summary>
    public bool UseTls { get; init; }
}

/// <summary>Sends over SMTP with MailKit, one connection per e-mail (volumes here are one mail per order event).</summary>
public sealed class SmtpMailer(IOptions<SmtpSettings> options) : IMailer
{
    public async Task SendAsync(Email email, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var message = new MimeMessage
        {
            Subject = email.Subject,
            MessageId = email.MessageId,
            Body = new TextPart("plain") { Text = email.Body },
        };
        message.From.Add(MailboxAddress.Parse(settings.From));
        message.To.Add(MailboxAddress.Parse(email.To));

        // A span of its own: the SMTP round trip is often the slowest part of handling a notification.
        using var span = ConveyorTelemetry.Source.StartActivity("smtp send", ActivityKind.Client);
        span?.SetTag("server.address", settings.Host);
        span?.SetTag("server.port", settings.Port);
        using var client = await ConnectAsync(settings, cancellationToken);
        await client.SendAsync(message, cancellationToken);
        await client.DisconnectAsync(quit: true, cancellationToken);
        ConveyorTelemetry.EmailsSent.Add(1);
    }

    internal static async Task<SmtpClient> ConnectAsync(SmtpSettings settings, CancellationToken cancellationToken)
    {
        var client = new SmtpClient();
        try
        {
            await client.ConnectAsync(settings.Host, settings.Port,
                settings.UseTls ? SecureSocketOptions.StartTls : SecureSocketOptions.None, cancellationToken);
            if (!string.IsNullOrEmpty(settings.UserName))
            {
                await client.AuthenticateAsync(settings.UserName, settings.Password ?? "", cancellationToken);
            }

            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }
}

/// <summary>
/// Whether the SMTP server takes connections (and logins): reported to ServiceControl as a custom check.
/// Not a readiness check: with the server away, e-mails wait in retries and nothing else is affected.
/// </summary>
public sealed class SmtpHealthCheck(IOptions<SmtpSettings> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var settings = options.Value;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            using var client = await SmtpMailer.ConnectAsync(settings, timeout.Token);
            await client.NoOpAsync(timeout.Token);
            await client.DisconnectAsync(quit: true, timeout.Token);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex)
        {
            return HealthCheckResult.Unhealthy($"SMTP server {settings.Host}:{settings.Port} does not answer: {ex.Message}");
        }
    }
}

public static class MailerRegistration
{
    public static WebApplicationBuilder AddSmtpMailer(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<SmtpSettings>()
            .BindConfiguration("Smtp")
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<IMailer, SmtpMailer>();
        builder.Services.AddHealthChecks().AddCheck<SmtpHealthCheck>("smtp");
        return builder;
    }
}
