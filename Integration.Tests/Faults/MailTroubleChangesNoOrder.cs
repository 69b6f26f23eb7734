using Conveyor.Topology;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;

namespace Integration.Tests.Faults;

/// <summary>
/// The SMTP server is slow, then gone for a while. Orders must not notice at all; every customer must still get
/// each e-mail exactly once. An outage longer than the retry schedule ends in <c>error</c>, never in silence: an
/// operator retries what failed from ServiceControl once the server is back, as Pulse would have them do.
/// </summary>
[Category(ChaosOnly)]
public class MailTroubleChangesNoOrder : FaultFixture
{
    private static readonly TimeSpan OutageLength = TimeSpan.FromSeconds(30);
    // Notifications reaches the real SMTP server through this relay, which can slow it down or take it away.
    private readonly TcpRelay _smtp = new("127.0.0.1", TestEnvironment.SmtpPort);

    protected override IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> EndpointSettings =>
        new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            [SystemTopology.Notifications.Name] = new Dictionary<string, string> { ["Smtp__Port"] = _smtp.Port.ToString() },
        };

    [OneTimeTearDown]
    public async Task StopTheRelay() => await _smtp.DisposeAsync();

    [Test]
    public async Task A_slow_mail_server_changes_no_order()
    {
        try
        {
            var result = await BurstWithFaultAsync(
                "slow SMTP server",
                "Every answer of the SMTP server held back 300 ms from a tenth of the burst on (an e-mail takes some 1.5 s instead of a few ms).",
                (_, _) =>
                {
                    _smtp.ServerDelay = TimeSpan.FromMilliseconds(300);
                    return Task.CompletedTask;
                });
            result.AssertPassed();
        }
        finally
        {
            _smtp.ServerDelay = TimeSpan.Zero;
        }
    }

    [Test]
    public async Task A_mail_server_outage_loses_no_email()
    {
        using var serviceControl = ServiceControlClient.ForRunningSystem();
        var result = await BurstWithFaultAsync(
            "SMTP server outage",
            $"The SMTP server refuses connections for {OutageLength.TotalSeconds:0} s from a tenth of the burst on, longer than the retry schedule (2 immediate, then 1, 4 and 16 s); once it is back, an operator retries what failed in ServiceControl.",
            async (scenario, _) =>
            {
                await _smtp.RefuseAsync();
                try { await Task.Delay(OutageLength); }
                finally { _smtp.Resume(); }

                // What outlived its retries is in error, and so in ServiceControl, once nothing is retrying any more.
                await TestEnvironment.Eventually(SystemLedger.WaitingAsync, waiting => waiting.Values.All(n => n == 0),
                    "the retries of the outage to end", TimeSpan.FromMinutes(2));
                var failed = (await serviceControl.ListAsync()).Count;
                scenario.Measurements["e-mails that ended in error and were retried by an operator"] = failed;
                if (failed > 0) Assert.That((await serviceControl.PostAsync("/api/failed-messages/retry-all")).IsSuccessStatusCode, Is.True, "retry-all");
            });
        result.AssertPassed();
    }
}
