using System.Security.Claims;
using Conveyor.Hosting;
using Microsoft.EntityFrameworkCore;

namespace Conveyor.Orders;

/// <summary>
/// <c>GET /orders/{id}/payment</c>: the order's payment as Orders knows it from Payments' events
/// (<see cref="PaymentState"/>). Payments owns the payment; Orders never reads its database, calls it over HTTP, or
/// asks it over the broker (a reply would need the default exchange, which no endpoint may write), so this is a
/// read model: as current as the last event that reached Orders.
/// </summary>
public static class GetOrderPayment
{
    /// <summary>
    /// <c>NotStarted</c> while no outcome has reached Orders (the charge is in flight or being retried), then
    /// <c>Authorized</c>, <c>Declined</c> or <c>Refunded</c>; <c>Voided</c> for an order cancelled before any
    /// outcome: nothing will be kept (a charge that still lands is refunded).
    /// </summary>
    public sealed record PaymentView(
        Guid OrderId,
        string Status,
        Guid? PaymentId,
        decimal? Amount,
        string? Currency,
        string? ProviderReference,
        string? DeclineReason,
        DateTimeOffset? UpdatedAt);

    public static PaymentView ToView(Order order)
    {
        var status = order.PaymentState switch
        {
            PaymentState.Pending when order.IsCancelled => "Voided",
            PaymentState.Pending => "NotStarted",
            var state => state.ToString(),
        };
        var moneyMoved = order.PaymentState is PaymentState.Authorized or PaymentState.Refunded;
        return new PaymentView(order.Id, status, order.PaymentId,
            moneyMoved ? order.Total : null, moneyMoved ? order.Currency : null,
            order.PaymentReference, order.PaymentDeclineReason, order.PaymentUpdatedAt);
    }

    public static IEndpointRouteBuilder MapGetOrderPayment(this IEndpointRouteBuilder app)
    {
        app.MapGet("/orders/{id}/payment", async (string id, ClaimsPrincipal user, OrdersDb db, CancellationToken ct) =>
            {
                var order = Guid.TryParse(id, out var orderId)
                    ? await db.Orders.AsNoTracking().VisibleTo(user).SingleOrDefaultAsync(o => o.Id == orderId, ct)
                    : null;
                return order is null ? GetOrder.NotFound(id) : Results.Ok(ToView(order));
            })
            .RequireAuthorization(ConveyorRoles.AnyRole)
            .WithName("GetOrderPayment")
            .Produces<PaymentView>()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }
}
