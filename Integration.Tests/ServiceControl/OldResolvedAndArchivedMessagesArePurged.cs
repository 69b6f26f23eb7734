using System.Net;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;

namespace Integration.Tests.ServiceControl;

/// <summary>Retention on a short clock: archived (and resolved) messages go after the period, unresolved ones stay.</summary>
public class OldResolvedAndArchivedMessagesArePurged : SystemFixture
{
    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["ServiceControl__RetentionPeriod"] = "00:00:03",
        ["ServiceControl__RetentionCheckInterval"] = "00:00:00.500",
    };

    [Test]
    public async Task An_archived_message_is_deleted_after_the_retention_period_and_an_unresolved_one_is_kept()
    {
        using var serviceControl = ServiceControlClient.ForRunningSystem();
        var (_, archivedMessageId) = await FailedMessages.SendInvalidOrderPlacedAsync();
        var (_, keptMessageId) = await FailedMessages.SendInvalidOrderPlacedAsync();
        var archived = ServiceControlClient.IdOf(await serviceControl.WaitForAsync(FailedMessages.FailedInPayments(archivedMessageId), "the first failure stored"));
        var kept = ServiceControlClient.IdOf(await serviceControl.WaitForAsync(FailedMessages.FailedInPayments(keptMessageId), "the second failure stored"));

        var archive = await serviceControl.PostAsync($"/api/failed-messages/{archived}/archive");
        await TestEnvironment.Eventually(() => serviceControl.FindAsync(archived), m => m is null, "the archived message to be purged", TimeSpan.FromSeconds(30));
        var history = await Sql.ScalarAsync<long>(RunningSystem.ServiceControlDatabase, "select count(*) from failures where failed_message_id = @id", ("id", archived));

        Assert.Multiple(async () =>
        {
            Assert.That(archive.StatusCode, Is.EqualTo(HttpStatusCode.Accepted));
            Assert.That(history, Is.Zero, "its failure history went with it");
            Assert.That(ServiceControlClient.StatusOf(await serviceControl.GetAsync(kept)), Is.EqualTo("Unresolved"), "unresolved messages are never purged");
        });
    }
}
