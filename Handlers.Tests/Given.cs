using Conveyor.Messages;
using Microsoft.Extensions.Time.Testing;

namespace Handlers.Tests;

/// <summary>The facts the specs start from.</summary>
internal static class Given
{
    public static readonly DateTimeOffset Now = new(2026, 11, 27, 9, 30, 0, TimeSpan.Zero);

    public static FakeTimeProvider Clock() => new(Now);

    public static OrderPlaced OrderPlaced(string paymentToken = "tok_ok") => new(
        OrderId: Guid.Parse("0193a1a0-0000-7000-8000-000000000001"),
        CustomerId: "customer-42",
        CustomerEmail: "ada@example.com",
        Currency: "EUR",
        Lines: [new OrderLine("BOOK-DDD", 1, 42.50m), new OrderLine("MUG", 2, 9.95m)],
        Total: 62.40m,
        PaymentToken: paymentToken,
        PlacedAt: Now);
}
