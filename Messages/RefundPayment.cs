namespace Conveyor.Messages;

/// <summary>
/// Command to Payments (queue <c>payments</c>): give back a payment. Sent by Orders when money was taken
/// for an order it does not know, so no customer is charged for nothing.
/// </summary>
public sealed record RefundPayment(
    Guid OrderId,
    Guid PaymentId,
    string Reason) : ICommand;
