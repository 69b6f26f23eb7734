namespace Conveyor.Messages;

/// <summary>Why an order was cancelled.</summary>
public enum CancellationReason
{
    /// <summary>The payment provider declined the charge.</summary>
    PaymentDeclined,

    /// <summary>No payment arrived before the payment deadline.</summary>
    PaymentTimedOut,

    /// <summary>The customer cancelled the order.</summary>
    CustomerRequested,

    /// <summary>Inventory could not reserve every line of the order.</summary>
    OutOfStock,
}

/// <summary>
/// Published by Orders when an order is cancelled. Payments refunds whatever it has taken for the order
/// (and takes nothing more); Notifications tells the customer.
/// </summary>
public sealed record OrderCancelled(
    Guid OrderId,
    CancellationReason Reason,
    Guid? PaymentId,
    DateTimeOffset CancelledAt) : IEvent;
