using System.Diagnostics;
using Conveyor.Topology;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;

namespace Integration.Tests.Faults;

/// <summary>
/// <c>kill -9</c> of one process while a burst of orders flows through it, and the process started again at
/// once, as a crash-looping container or an OOM kill would have it. No order may end differently than it
/// would have without the kill.
/// </summary>
public class AKilledProcessChangesNoOrder : FaultFixture
{
    [TestCaseSource(nameof(BusinessEndpointNames))]
    public async Task Every_order_ends_confirmed_with_one_payment_and_one_email(string endpoint)
    {
        var result = await BurstWithFaultAsync(
            $"kill -9 {endpoint}",
            $"`kill -9` of {endpoint} once a tenth of the burst was accepted, then {endpoint} started again at once.",
            KillThenRestart(endpoint),
            duplicateEmailReason: endpoint == SystemTopology.Notifications.Name ? NotificationsDiedBetweenSendingAndRecording : null,
            takenOverBy: TakenOverBy(endpoint));

        result.AssertPassed();
    }

    [Test]
    public async Task ServiceControl_killed_while_it_ingests_stores_every_failure_once_and_changes_no_order()
    {
        FailureBurst failures = null!;
        var result = await BurstWithFaultAsync(
            $"kill -9 {SystemTopology.ServiceControl.Name}",
            "A burst of failed messages published into `error`, then `kill -9` of ServiceControl while it ingested them (and while the orders flowed), then ServiceControl started again at once.",
            async (scenario, sinceFault) =>
            {
                failures = await FailureBurst.PublishAsync(ChaosSettings.BurstSize * 5);
                await KillThenRestart(SystemTopology.ServiceControl.Name)(scenario, sinceFault);
            },
            takenOverBy: SystemTopology.ServiceControl.Name);

        // Settled counts what waits in the queues, not what ServiceControl holds unacknowledged (up to its prefetch):
        // the last of those may still be on their way into the store.
        var stored = await failures.StoredAsync();
        for (var wait = Stopwatch.StartNew(); stored.Messages < failures.Count && wait.Elapsed < TimeSpan.FromSeconds(60); stored = await failures.StoredAsync())
        {
            await Task.Delay(500);
        }

        result.Measurements["failures published into error"] = failures.Count;
        result.Measurements["failed messages stored / failures recorded / most failures on one"] = $"{stored.Messages} / {stored.Failures} / {stored.MaxFailureCount}";
        if (stored.Messages != failures.Count || stored.Failures != failures.Count || stored.MaxFailureCount != 1)
        {
            result.Problems.Add($"of {failures.Count} failures, {stored.Messages} were stored with {stored.Failures} failure records (expected each once)");
        }

        result.AssertPassed();
    }

    /// <summary>Why a kill of Notifications may send an e-mail twice, and why that is the rule rather than a bug.</summary>
    internal const string NotificationsDiedBetweenSendingAndRecording =
        "Notifications died after the SMTP server had accepted an e-mail and before its record of it committed; the message was handled again and the e-mail sent again, with the same Message-Id (mail clients show it once). Sending at least once is the rule: a lost e-mail would be worse.";
}
