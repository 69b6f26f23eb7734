using Conveyor.Hosting;
using Conveyor.Orders;
using Conveyor.Topology;
using JasperFx;

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

// The host, or a JasperFx command given on the command line: the build runs `codegen write` (Directory.Build.targets).
return await app.RunJasperFxCommands(args);
