using System.Security.Claims;
using Conveyor.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Wolverine;
using Wolverine.EntityFrameworkCore;

namespace Conveyor.Orders;

/// <summary>
/// <c>POST /orders/{id}/cancel</c>: the customer cancels. Placed and (within the cancellation window)
/// Confirmed orders are cancelled and <c>OrderCancelled</c> goes out in the same transaction; Payments
/// then refunds whatever was taken. Cancelling again is harmless.
/// </summary>
public static class CancelOrder
{
    public sealed record CancelAccepted(Guid Id, string Status);

    public static IEndpointRouteBuilder MapCancelOrder(this IEndpointRouteBuilder app)
    {
        // Only the customer who placed it cancels an order.
        app.MapPost("/orders/{id}/cancel", HandleAsync)
            .RequireAuthorization(ConveyorRoles.Customer)
            .WithName("CancelOrder")
            .Produces<CancelAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return app;
    }

    private static async Task<IResult> HandleAsync(
        string id,
        HttpContext http,
        ClaimsPrincipal user,
        IServiceScopeFactory scopes,
        IOptions<OrdersOptions> options,
        TimeProvider clock,
        CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var orderId)) return GetOrder.NotFound(id);

        // The saga may be moving the same order (a payment arriving): on a version conflict start over
        // with fresh state rather than overwrite it.
        for (var attempt = 1; ; attempt++)
        {
            await using var scope = scopes.CreateAsyncScope();
            var outbox = scope.ServiceProvider.GetRequiredService<IDbContextOutbox<OrdersDb>>();
            var customerId = user.CustomerId();
            var order = await outbox.DbContext.Orders.SingleOrDefaultAsync(o => o.Id == orderId && o.CustomerId == customerId, ct);
            if (order is null) return GetOrder.NotFound(id);

            var now = clock.GetUtcNow();
            if (order.WhyNotCancellable(now, options.Value.CancellationWindow) is { } reason)
            {
                return Results.Problem(statusCode: StatusCodes.Status409Conflict, title: "The order can no longer be cancelled", detail: reason);
            }

            var cancelled = order.CancelAtCustomersRequest(now);
            if (cancelled is null) return Accepted(order);

            var audited = AuditedRequest.Start(http, nameof(CancelOrder), order.Id.ToString());
            await outbox.PublishAsync(cancelled, audited.Deliver());
            await audited.AuditAsync(outbox, outbox.DbContext, new { orderId = order.Id });
            try
            {
                await outbox.SaveChangesAndFlushMessagesAsync(ct);
                return Accepted(order);
            }
            catch (DbUpdateConcurrencyException) when (attempt < 5)
            {
                // Lost the race: nothing of ours was committed; read the order again.
            }
        }
    }

    private static IResult Accepted(Order order) =>
        Results.Accepted($"/orders/{order.Id}", new CancelAccepted(order.Id, order.Status.ToString()));
}
