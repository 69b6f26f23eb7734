using System.Security.Claims;
using Conveyor.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Conveyor.Orders;

/// <summary><c>GET /orders/{id}</c>: an order, its state and the timeline of how it got there.</summary>
public static class GetOrder
{
    public sealed record LineView(string Sku, int Quantity, decimal UnitPrice);
    public sealed record StatusChangeView(string Status, DateTimeOffset At, string? Reason);
    public sealed record OrderView(
        Guid Id,
        string CustomerId,
        string Status,
        string Currency,
        decimal Total,
        IReadOnlyList<LineView> Lines,
        Guid? PaymentId,
        string? CancellationReason,
        Guid? RefundId,
        decimal? RefundedAmount,
        string Stock,
        DateTimeOffset PlacedAt,
        IReadOnlyList<StatusChangeView> Timeline);

    public static OrderView ToView(Order order) => new(
        order.Id,
        order.CustomerId,
        order.Status.ToString(),
        order.Currency,
        order.Total,
        order.Lines.Select(l => new LineView(l.Sku, l.Quantity, l.UnitPrice)).ToList(),
        order.PaymentId,
        order.CancellationReason?.ToString(),
        order.RefundId,
        order.RefundedAmount,
        order.StockState.ToString(),
        order.PlacedAt,
        order.Timeline.OrderBy(t => t.At).Select(t => new StatusChangeView(t.Status.ToString(), t.At, t.Reason)).ToList());

    /// <summary>The answer for an id that names no order, malformed or unknown alike (ids cannot be probed).</summary>
    public static IResult NotFound(string id) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Order not found", detail: $"There is no order with id '{id}'.");

    /// <summary>
    /// The orders <paramref name="user"/> may see: a customer only their own, support and ops every one. Another
    /// customer's order is simply not there (404, not 403), so order ids cannot be probed.
    /// </summary>
    public static IQueryable<Order> VisibleTo(this IQueryable<Order> orders, ClaimsPrincipal user)
    {
        if (user.SeesEveryOrder()) return orders;
        var customerId = user.CustomerId();
        return orders.Where(o => o.CustomerId == customerId);
    }

    public static IEndpointRouteBuilder MapGetOrder(this IEndpointRouteBuilder app)
    {
        app.MapGet("/orders/{id}", async (string id, ClaimsPrincipal user, OrdersDb db, CancellationToken ct) =>
            {
                // A malformed id names no order: same answer as an unknown one.
                var order = Guid.TryParse(id, out var orderId)
                    ? await db.Orders.AsNoTracking().VisibleTo(user).SingleOrDefaultAsync(o => o.Id == orderId, ct)
                    : null;

                return order is null ? NotFound(id) : Results.Ok(ToView(order));
            })
            .RequireAuthorization(ConveyorRoles.AnyRole)
            .WithName("GetOrder")
            .Produces<OrderView>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }
}
