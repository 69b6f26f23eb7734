using Conveyor.Hosting;
using Conveyor.Orders;
using Conveyor.Topology;

var builder = WebApplication.CreateBuilder(args);

// What it publishes, sends and subscribes to: Topology/SystemTopology.cs.
builder.AddConveyorEndpoint<OrdersDb>(SystemTopology.Orders);

builder.Services.AddOptions<OrdersOptions>()
    .BindConfiguration("Orders")
    .ValidateDataAnnotations()
    .ValidateOnStart();
builder.Services.AddHostedService<LoadTheCatalogOnStartup>();

var app = builder.Build();

app.UseConveyorEdge();
app.MapConveyorOperations();
app.MapPlaceOrder();
app.MapGetOrder();
app.MapCancelOrder();
app.MapGetOrderPayment();

return await app.RunEndpointAsync(args);
