using System.Security.Claims;
using Conveyor.Hosting;
using Conveyor.Messages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Wolverine;
using Wolverine.Runtime.RemoteInvocation;

namespace Conveyor.Orders;

/// <summary>
/// <c>GET /orders/{id}/payment</c>: asks Payments, over the broker, for the live state of the order's
/// payment. Payments owns that data; Orders never reads its database or calls it over HTTP. If Payments
/// does not answer within <see cref="OrdersOptions.PaymentStatusTimeout"/>, the client gets a 504.
/// </summary>
public static class GetOrderPayment
{
    public static IEndpointRouteBuilder MapGetOrderPayment(this IEndpointRouteBuilder app)
    {
        app.MapGet("/orders/{id}/payment", HandleAsync)
            .RequireAuthorization(ConveyorRoles.AnyRole)
            .WithName("GetOrderPayment")
            .Produces<PaymentStatusReport>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status502BadGateway)
            .ProducesProblem(StatusCodes.Status504GatewayTimeout);
        return app;
    }

    private static async Task<IResult> HandleAsync(string id, ClaimsPrincipal user, OrdersDb db, IMessageBus bus, IOptions<OrdersOptions> options, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var orderId) || !await db.Orders.VisibleTo(user).AnyAsync(o => o.Id == orderId, ct))
        {
            return GetOrder.NotFound(id);
        }

        try
        {
            var timeout = options.Value.PaymentStatusTimeout;
            return Results.Ok(await bus.InvokeAsync<PaymentStatusReport>(new GetPaymentStatus(orderId), ct, timeout));
        }
        catch (TimeoutException)
        {
            return Results.Problem(statusCode: StatusCodes.Status504GatewayTimeout, title: "Payments did not answer in time",
                detail: $"Payments did not report the payment of order {orderId} within {options.Value.PaymentStatusTimeout.TotalSeconds:0.#} s. Try again later.");
        }
        catch (WolverineRequestReplyException ex)
        {
            return Results.Problem(statusCode: StatusCodes.Status502BadGateway, title: "Payments could not answer", detail: ex.Message);
        }
    }
}
