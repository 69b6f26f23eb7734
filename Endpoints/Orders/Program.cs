using Conveyor.Hosting;
using Conveyor.Topology;
using Conveyor.Orders;

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

app.Run();
