using System.Diagnostics;
using Conveyor.Topology;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;

namespace Integration.Tests.Faults;

/// <summary>
/// A running system hurt the way production hurts it, with the production payment deadline and retry schedule:
/// a burst of orders is placed, a fault is injected while they are in flight, and every order is then checked
/// for where it ended and what it caused. Each scenario's figures go into the fault report.
/// </summary>
[Category(Category)]
public abstract class FaultFixture : SystemFixture
{
    /// <summary>Every fault scenario; <c>./build.sh chaos</c> runs exactly these.</summary>
    public const string Category = "Faults";

    /// <summary>Scenarios too long or too intrusive for every test run (restarts of shared services, the soak): chaos only.</summary>
    public const string ChaosOnly = "ChaosOnly";

    public static readonly TimeSpan PaymentDeadline = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The deadline where the broker or the database itself restarts: on this kind of machine RabbitMQ takes 14-32 s to
    /// stop, boot and take connections again, so the production 30 s would time out orders placed just before the
    /// restart. That is the business rule working, not the fault under test.
    /// </summary>
    public static readonly TimeSpan SharedServiceRestartDeadline = TimeSpan.FromSeconds(90);

    /// <summary>The payment deadline this fixture's system runs with.</summary>
    protected virtual TimeSpan Deadline => PaymentDeadline;

    /// <summary>The endpoints a scenario hurts one at a time, by name (the test's name shows it).</summary>
    public static IEnumerable<string> BusinessEndpointNames => SystemTopology.BusinessEndpoints.Select(e => e.Name);

    /// <summary>
    /// The endpoint whose live node must eject a dead one and take over its stored work: a Wolverine endpoint's. A Node.js
    /// endpoint has no node ownership to take over (its deliveries go back to the queue with the connection, its delayed
    /// retries are any instance's to run), so there is nothing to wait for.
    /// </summary>
    protected static string? TakenOverBy(string endpoint) => SystemTopology.Named(endpoint).Runtime == Runtime.DotNet ? endpoint : null;

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        // As deployed: the 30 s deadline (unless the fixture says otherwise) and the default retry schedule (2 immediate, then 1, 4 and 16 s).
        ["Orders__PaymentDeadline"] = Deadline.ToString("c"),
        ["Conveyor__Recoverability__ImmediateRetries"] = "2",
        ["Conveyor__Recoverability__DelayedRetries"] = "00:00:01,00:00:04,00:00:16",
    };

    /// <summary>The Orders instances the clients place orders with (the first, unless a scenario runs more).</summary>
    protected IReadOnlyList<Uri> OrderApis { get; set; } = [RunningSystem.OrdersApi];

    protected OrderBurst StartBurst(string token = "tok_ok", int? count = null) =>
        OrderBurst.Start(api => Tokens.ClientAs("alice", api), OrderApis, token, count ?? ChaosSettings.BurstSize, ChaosSettings.Clients);

    /// <summary>
    /// A burst of <c>tok_ok</c> orders, <paramref name="fault"/> injected once a tenth of them is accepted (about a
    /// second in), then everything checked against <paramref name="expected"/> once the system has settled.
    /// </summary>
    protected async Task<ScenarioResult> BurstWithFaultAsync(
        string scenario,
        string description,
        Func<ScenarioResult, Stopwatch, Task> fault,
        Expectation? expected = null,
        string? duplicateEmailReason = null,
        string? takenOverBy = null,
        bool nothingRestarts = false)
    {
        var result = new ScenarioResult { Scenario = scenario, Fault = description };
        var processes = System.Processes.Select(p => p.Id).ToList();
        var sinceStart = Stopwatch.StartNew();
        var burst = StartBurst();
        await burst.WhenPlacedAsync(Math.Max(5, burst.Count / 10));
        result.Measurements["fault injected"] = $"{sinceStart.Elapsed.TotalSeconds:0.0} s into the burst, {burst.Placed.Count} of {burst.Count} orders accepted";

        var faultAt = DateTimeOffset.UtcNow;
        var sinceFault = Stopwatch.StartNew();
        await fault(result, sinceFault);
        await burst.Completion;
        result.Measurements["burst accepted"] = $"{burst.Count} orders in {sinceStart.Elapsed.TotalSeconds:0.0} s";
        await SettleAsync(result, burst.Placed, sinceFault);
        await EvaluateAsync(result, burst, expected ?? Expectation.ConfirmedAndMailed, duplicateEmailReason);
        if (takenOverBy is not null)
        {
            // A process the orders do not wait on (ServiceControl) may settle before its dead node is ejected: wait for it.
            result.TakenOverSeconds = await WaitForEjectionAsync(takenOverBy, faultAt, sinceFault);
            if (result.TakenOverSeconds is null) result.Problems.Add($"no live {takenOverBy} node ejected the dead one (its stored work was never taken over)");
        }

        // A fault the system must ride out without restarting anything: every process is still the one it was.
        if (nothingRestarts && !System.Processes.Select(p => p.Id).SequenceEqual(processes)) result.Problems.Add("a process was restarted (or died) instead of riding the fault out");

        ChaosReport.Add(result);
        return result;
    }

    /// <summary><c>kill -9</c> of one process, then (unless it is left dead) the same process started again at once.</summary>
    protected Func<ScenarioResult, Stopwatch, Task> KillThenRestart(string processName, bool restart = true) => async (result, sinceFault) =>
    {
        await System.KillAsync(processName);
        if (!restart) return;
        var (name, instance) = processName.Split('-') is [var n, var i] ? (n, int.Parse(i)) : (processName, 1);
        await System.StartAgainAsync(name, instance);
        result.ReadyAgainSeconds = sinceFault.Elapsed.TotalSeconds;
    };

    /// <summary>Waits until every order has left Placed and nothing waits anywhere (twice in a row), within the settle timeout.</summary>
    protected static async Task SettleAsync(ScenarioResult result, IReadOnlyCollection<PlacedOrder> orders, Stopwatch sinceFault)
    {
        var ids = orders.Select(o => o.Id).ToArray();
        var quietInARow = 0;
        IReadOnlyDictionary<string, long> waiting = new Dictionary<string, long>();
        while (sinceFault.Elapsed < ChaosSettings.SettleTimeout)
        {
            var states = await SystemLedger.StatesAsync(ids);
            waiting = await SystemLedger.WaitingAsync();
            var quiet = states.Values.All(SystemLedger.HasLeftPlaced) && waiting.Values.All(n => n == 0);
            quietInARow = quiet ? quietInARow + 1 : 0;
            if (quietInARow == 2)
            {
                result.RecoverySeconds = sinceFault.Elapsed.TotalSeconds;
                return;
            }

            await Task.Delay(500);
        }

        result.StillWaiting = waiting.Where(w => w.Value > 0).ToDictionary();
        result.Notes.Add($"not settled {ChaosSettings.SettleTimeout.TotalMinutes:0} min after the fault");
    }

    protected static async Task EvaluateAsync(ScenarioResult result, OrderBurst burst, Expectation expected, string? duplicateEmailReason)
    {
        var outcomes = await SystemLedger.OutcomesAsync(burst.Placed);
        result.Orders = outcomes.Count;
        result.RetriedAnswers = burst.Refusals.ToDictionary(r => ((int)r.Key).ToString(), r => r.Value);
        result.RetriedConnectionFailures = burst.ConnectionFailures;
        foreach (var outcome in outcomes)
        {
            var wrong = new List<string>();
            if (outcome.State != expected.State) wrong.Add($"ended {outcome.State}");
            if (expected.PaymentStatus is not null)
            {
                if (outcome.Payments == 0) result.LostPayments++;
                else if (outcome.PaymentStatus != expected.PaymentStatus) wrong.Add($"payment {outcome.PaymentStatus}");
            }

            if (expected.Reservation is not null && outcome.Reservation != expected.Reservation) wrong.Add($"reservation {outcome.Reservation ?? "none"}");
            if (outcome.Payments > 1) result.DuplicatePayments += outcome.Payments - 1;
            if (outcome.Refunds < expected.Refunds) result.LostRefunds += expected.Refunds - outcome.Refunds;
            if (outcome.Refunds > expected.Refunds) result.DuplicateRefunds += outcome.Refunds - expected.Refunds;
            foreach (var (kind, count) in expected.Mails)
            {
                var received = outcome.Mails.GetValueOrDefault(kind);
                if (received < count)
                {
                    result.MissingEmails += count - received;
                    wrong.Add($"no {kind} e-mail");
                }
                else result.DuplicateEmails += received - count;
            }

            foreach (var (kind, count) in outcome.Mails.Where(m => !expected.Mails.ContainsKey(m.Key)))
            {
                wrong.Add($"{count} unexpected {kind} e-mail(s)");
            }

            if (wrong.Count > 0)
            {
                result.WrongOutcomes++;
                if (result.WrongExamples.Count < 10) result.WrongExamples.Add($"{outcome.Id}: {string.Join(", ", wrong)}");
            }
        }

        if (result.DuplicateEmails > 0) result.DuplicateEmailReason = duplicateEmailReason;
        result.Problems.AddRange((await SystemLedger.UnbalancedStockAsync()).Select(u => $"Inventory's books do not balance: {u}"));
    }

    /// <summary>Seconds from the fault until a live node of <paramref name="endpoint"/> ejected a dead one (Wolverine's node records), if it did within the settle timeout.</summary>
    protected static async Task<double?> WaitForEjectionAsync(string endpoint, DateTimeOffset faultAt, Stopwatch sinceFault)
    {
        var database = SystemDatabases.ConnectionTo(SystemTopology.Named(endpoint));
        do
        {
            var ejected = await Sql.ScalarAsync<DateTime?>(database,
                "select min(timestamp) from wolverine.wolverine_node_records where event_name = 'DormantNodeEjected' and timestamp > @at",
                ("at", faultAt.UtcDateTime));
            if (ejected is not null) return (new DateTimeOffset(DateTime.SpecifyKind(ejected.Value, DateTimeKind.Utc)) - faultAt).TotalSeconds;
            await Task.Delay(500);
        }
        while (sinceFault.Elapsed < ChaosSettings.SettleTimeout);

        return null;
    }
}
