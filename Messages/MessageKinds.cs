namespace Conveyor.Messages;

/// <summary>A fact: something happened, named in the past tense (<c>OrderPlaced</c>), published to every subscriber.</summary>
public interface IEvent
{
}

/// <summary>A request, named in the imperative (<c>RefundPayment</c>), sent to the one endpoint that handles it.</summary>
public interface ICommand
{
}
