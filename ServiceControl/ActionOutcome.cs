namespace Conveyor.ServiceControl;

/// <summary>What an operator's action did; the API turns it into a status code, Pulse into a notice.</summary>
public sealed record ActionOutcome(ActionOutcome.Kind Result, int Count, string Detail)
{
    public enum Kind
    {
        Done,
        NotFound,
        Conflict,
        Invalid,
        BrokerUnavailable,
    }

    public bool Succeeded => Result == Kind.Done;

    public static ActionOutcome Done(int count, string detail) => new(Kind.Done, count, detail);
    public static ActionOutcome NotFound(string detail) => new(Kind.NotFound, 0, detail);
    public static ActionOutcome Conflict(string detail) => new(Kind.Conflict, 0, detail);
    public static ActionOutcome Invalid(string detail) => new(Kind.Invalid, 0, detail);
    public static ActionOutcome BrokerUnavailable(string detail) => new(Kind.BrokerUnavailable, 0, detail);
}
