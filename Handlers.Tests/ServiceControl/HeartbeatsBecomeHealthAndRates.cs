using Conveyor.Topology;
using Conveyor.Hosting.ServiceControl;
using Conveyor.ServiceControl.EndpointHealth;
using Conveyor.ServiceControl.Monitoring;

namespace Handlers.Tests.ServiceControl;

public class HeartbeatsBecomeHealthAndRates
{
    private static readonly DateTimeOffset Started = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(40);

    private static EndpointHeartbeat Heartbeat(DateTimeOffset sentAt, MessageCounters counters, int pid = 42, DateTimeOffset? started = null, bool databasePasses = true) =>
        new(SystemTopology.Payments.Name, "host-1", pid, started ?? Started, sentAt, TimeSpan.FromSeconds(10),
            [new CheckResult("database", databasePasses, databasePasses ? null : "connection refused")], counters);

    private static MessageCounters Counters(long processed, long retried = 0, long failed = 0, double ms = 0, long attempts = 0) => new(processed, retried, failed, ms, attempts);

    [Test]
    public void An_instance_is_up_within_the_grace_period_and_down_after_it()
    {
        var instance = EndpointInstance.From(Heartbeat(Started, Counters(0)));
        instance.Apply(Heartbeat(Started.AddSeconds(10), Counters(0)), Started.AddSeconds(10));

        Assert.Multiple(() =>
        {
            Assert.That(instance.IsUp(Started.AddSeconds(50), Grace), Is.True);
            Assert.That(instance.IsUp(Started.AddSeconds(51), Grace), Is.False);
        });
    }

    [Test]
    public void A_late_heartbeat_from_a_backlog_does_not_make_a_silent_instance_look_alive()
    {
        var instance = EndpointInstance.From(Heartbeat(Started, Counters(0)));
        instance.Apply(Heartbeat(Started.AddSeconds(20), Counters(0)), Started.AddSeconds(20));

        instance.Apply(Heartbeat(Started.AddSeconds(10), Counters(0)), Started.AddMinutes(5));

        Assert.That(instance.LastSeenAt, Is.EqualTo(Started.AddSeconds(20)));
    }

    [Test]
    public void A_failing_check_makes_an_up_instance_unhealthy()
    {
        var instance = EndpointInstance.From(Heartbeat(Started, Counters(0)));
        instance.Apply(Heartbeat(Started, Counters(0), databasePasses: false), Started);

        var status = EndpointInstanceStatus.Of(instance, Started.AddSeconds(1), Grace);

        Assert.Multiple(() =>
        {
            Assert.That(status.Up, Is.True);
            Assert.That(status.Healthy, Is.False);
            Assert.That(status.Checks.Single().Reason, Is.EqualTo("connection refused"));
        });
    }

    [Test]
    public void Rates_are_the_counter_differences_per_second()
    {
        var sample = EndpointThroughput.Between(
            Heartbeat(Started, Counters(processed: 100, retried: 4, failed: 1, ms: 500, attempts: 105)),
            Heartbeat(Started.AddSeconds(10), Counters(processed: 300, retried: 14, failed: 3, ms: 2_700, attempts: 317)));

        Assert.Multiple(() =>
        {
            Assert.That(sample!.ProcessedPerSecond, Is.EqualTo(20));
            Assert.That(sample.RetriedPerSecond, Is.EqualTo(1));
            Assert.That(sample.FailedPerSecond, Is.EqualTo(0.2).Within(1e-9));
            Assert.That(sample.ProcessingMilliseconds, Is.EqualTo(2_200.0 / 212).Within(1e-9));
        });
    }

    [Test]
    public void No_rate_is_computed_across_a_restart()
    {
        var sample = EndpointThroughput.Between(
            Heartbeat(Started, Counters(processed: 100)),
            Heartbeat(Started.AddSeconds(30), Counters(processed: 3), pid: 43, started: Started.AddSeconds(25)));

        Assert.That(sample, Is.Null);
    }
}
