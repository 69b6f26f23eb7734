using Conveyor.Hosting;
namespace Conveyor.Payments;

/// <summary>
/// <c>/admin/provider-outage</c>: the operator's switch that makes the simulated provider fail every charge
/// transiently while on (off by default), to rehearse a provider outage and its end.
/// </summary>
public static class ProviderOutage
{
    public sealed record OutageState(bool Active);

    public static IEndpointRouteBuilder MapProviderOutage(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/admin/provider-outage").WithTags("Admin").RequireAuthorization(ConveyorRoles.Ops);
        admin.MapGet("", (PaymentProviderSimulator provider) => new OutageState(provider.OutageActive));
        admin.MapPut("", (OutageState state, PaymentProviderSimulator provider, ILogger<OutageState> logger) =>
        {
            provider.OutageActive = state.Active;
            logger.LogWarning("Payment provider outage switched {State} by an operator", state.Active ? "ON" : "OFF");
            return new OutageState(provider.OutageActive);
        });
        return app;
    }
}
