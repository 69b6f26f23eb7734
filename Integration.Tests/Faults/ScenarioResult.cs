namespace Integration.Tests.Faults;

/// <summary>What every order of a scenario must end as: its state, its payment, its refunds, its e-mails and its reservation.</summary>
public sealed record Expectation(string State, string? PaymentStatus, int Refunds, IReadOnlyDictionary<string, int> Mails, string? Reservation = null)
{
    public static readonly Expectation ConfirmedAndMailed =
        new("Confirmed", "Authorized", 0, new Dictionary<string, int> { [SystemLedger.Confirmed] = 1 }, Reservation: "Sold");
}

/// <summary>One fault scenario, as the report shows it.</summary>
public sealed class ScenarioResult
{
    public required string Scenario { get; init; }
    public required string Fault { get; init; }
    public int Orders { get; set; }
    public int WrongOutcomes { get; set; }
    public List<string> WrongExamples { get; } = [];
    public int LostPayments { get; set; }
    public int DuplicatePayments { get; set; }
    public int LostRefunds { get; set; }
    public int DuplicateRefunds { get; set; }
    public int MissingEmails { get; set; }
    public int DuplicateEmails { get; set; }
    public string? DuplicateEmailReason { get; set; }
    public Dictionary<string, long> StillWaiting { get; set; } = [];
    public Dictionary<string, int> RetriedAnswers { get; set; } = [];
    public int RetriedConnectionFailures { get; set; }
    /// <summary>From the fault until the faulted part answered ready again (null when nothing was restarted).</summary>
    public double? ReadyAgainSeconds { get; set; }
    /// <summary>From the fault until a surviving node took over the dead node's stored work (its record ejected).</summary>
    public double? TakenOverSeconds { get; set; }
    /// <summary>From the fault until every order had reached its end and nothing waited anywhere.</summary>
    public double? RecoverySeconds { get; set; }
    public List<string> Notes { get; } = [];
    /// <summary>Anything else the scenario found wrong (a failure stored twice, a 500): each fails it.</summary>
    public List<string> Problems { get; } = [];
    public Dictionary<string, object> Measurements { get; } = [];
    /// <summary>Tables for the report (a header row, then the rows), such as the soak's table sizes.</summary>
    public Dictionary<string, List<string[]>> Tables { get; } = [];
    /// <summary>What goes into report.json only (the soak's minute-by-minute samples).</summary>
    public Dictionary<string, object> Details { get; } = [];

    public bool Passed =>
        WrongOutcomes == 0 && LostPayments == 0 && DuplicatePayments == 0 && LostRefunds == 0 && DuplicateRefunds == 0
        && MissingEmails == 0 && (DuplicateEmails == 0 || DuplicateEmailReason is not null)
        && StillWaiting.Values.All(n => n == 0) && RetriedAnswers.GetValueOrDefault("500") == 0 && RecoverySeconds is not null
        && Problems.Count == 0;

    /// <summary>Fails the test with everything that went wrong; the report keeps the full picture either way.</summary>
    public void AssertPassed() =>
        Assert.Multiple(() =>
        {
            Assert.That(WrongOutcomes, Is.Zero, $"orders with a wrong outcome: {string.Join("; ", WrongExamples)}");
            Assert.That(LostPayments + DuplicatePayments, Is.Zero, $"payments lost {LostPayments}, duplicated {DuplicatePayments}");
            Assert.That(LostRefunds + DuplicateRefunds, Is.Zero, $"refunds lost {LostRefunds}, duplicated {DuplicateRefunds}");
            Assert.That(MissingEmails, Is.Zero, "e-mails that never arrived");
            if (DuplicateEmails > 0) Assert.That(DuplicateEmailReason, Is.Not.Null, $"{DuplicateEmails} duplicate e-mails with no known reason");
            Assert.That(StillWaiting.Where(w => w.Value > 0), Is.Empty, "messages still waiting once the system should have settled");
            Assert.That(RetriedAnswers.GetValueOrDefault("500"), Is.Zero, "POST /orders answered 500 (a fault must be a 503 problem)");
            Assert.That(RecoverySeconds, Is.Not.Null, "the system never settled");
            Assert.That(Problems, Is.Empty);
        });
}
