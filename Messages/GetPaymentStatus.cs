namespace Conveyor.Messages;

/// <summary>
/// Request to Payments (queue <c>payments</c>) for the live state of an order's payment; answered with a
/// <see cref="PaymentStatusReport"/> on the requester's reply queue.
/// </summary>
public sealed record GetPaymentStatus(Guid OrderId);

/// <summary>
/// Payments' answer to <see cref="GetPaymentStatus"/>. Status is <c>NotStarted</c> while no outcome is
/// recorded (the charge is in flight or being retried), else Authorized, Declined, Voided or Refunded.
/// </summary>
public sealed record PaymentStatusReport(
    Guid OrderId,
    string Status,
    Guid? PaymentId,
    decimal? Amount,
    string? Currency,
    string? ProviderReference,
    string? DeclineReason,
    DateTimeOffset? UpdatedAt);
