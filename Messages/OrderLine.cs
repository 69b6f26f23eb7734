namespace Conveyor.Messages;

/// <summary>One line of an order. Prices are <see cref="decimal"/> in the order's ISO 4217 currency.</summary>
public sealed record OrderLine(string Sku, int Quantity, decimal UnitPrice)
{
    public decimal LineTotal => Quantity * UnitPrice;
}
