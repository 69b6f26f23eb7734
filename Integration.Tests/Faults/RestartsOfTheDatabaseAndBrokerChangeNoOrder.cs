using Integration.Tests.Infrastructure;
using Integration.Tests.System;
using Npgsql;

namespace Integration.Tests.Faults;

/// <summary>
/// The shared infrastructure restarts under a burst of orders: PostgreSQL (every endpoint's database at once)
/// and RabbitMQ. Nothing of the system is restarted; every process must ride it out, and while the database is
/// away the HTTP edge answers 503 with Retry-After (which the clients honour), never 500.
/// </summary>
[Category(ChaosOnly)]
public class RestartsOfTheDatabaseAndBrokerChangeNoOrder : FaultFixture
{
    protected override TimeSpan Deadline => SharedServiceRestartDeadline;

    protected override void RequireMore()
    {
        if (Environment.UserName != "root" || !File.Exists("/etc/init.d/postgresql") || !File.Exists("/etc/init.d/rabbitmq-server"))
        {
            Assert.Ignore("Restarting PostgreSQL and RabbitMQ needs their init scripts and root (./build.sh chaos runs as root).");
        }
    }

    [Test]
    public async Task A_database_restart_changes_no_order()
    {
        var result = await BurstWithFaultAsync(
            "PostgreSQL restarted",
            "`service postgresql restart` once a tenth of the burst was accepted: every endpoint's database goes away and comes back.",
            async (scenario, sinceFault) =>
            {
                await Shell.RunAsync("service", "postgresql", "restart");
                scenario.ReadyAgainSeconds = sinceFault.Elapsed.TotalSeconds;
                // This process's pooled connections died with the server too.
                NpgsqlConnection.ClearAllPools();
            },
            duplicateEmailReason: MailSentThenRecordFailed,
            nothingRestarts: true);

        result.AssertPassed();
    }

    [Test]
    public async Task A_broker_restart_changes_no_order()
    {
        var result = await BurstWithFaultAsync(
            "RabbitMQ restarted",
            "`service rabbitmq-server restart` once a tenth of the burst was accepted: every connection drops and the broker is away for a few seconds.",
            async (scenario, sinceFault) =>
            {
                await TheSystemRidesOutABrokerRestart.RestartRabbitMq();
                scenario.ReadyAgainSeconds = sinceFault.Elapsed.TotalSeconds;
            },
            nothingRestarts: true);

        result.AssertPassed();
    }

    internal const string MailSentThenRecordFailed =
        "the SMTP server had accepted the e-mail when the database went away, so the record of it could not commit; the message was retried and the e-mail sent again, with the same Message-Id. Sending at least once is the rule.";
}
