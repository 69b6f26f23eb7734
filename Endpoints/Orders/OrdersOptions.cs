using System.ComponentModel.DataAnnotations;

namespace Conveyor.Orders;

/// <summary>The order lifecycle's timing, from the <c>Orders</c> configuration section.</summary>
public sealed class OrdersOptions
{
    /// <summary>How long an order waits for its payment before it is cancelled (PaymentTimedOut).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan PaymentDeadline { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long after placement a confirmed order may still be cancelled by the customer (and refunded).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan CancellationWindow { get; set; } = TimeSpan.FromDays(14);

    /// <summary>The catalog file read at start-up (relative to the executable): deploy/catalog.json, copied beside it.</summary>
    [Required]
    public string CatalogFile { get; set; } = "catalog.json";
}
