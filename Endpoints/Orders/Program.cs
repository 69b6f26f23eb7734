using Conveyor.Hosting;
using Conveyor.Messages;
using Conveyor.Orders;

var builder = WebApplication.CreateBuilder(args);

builder.AddConveyorEndpoint<OrdersDb>("orders", messaging => messaging
    .Publishes<OrderPlaced>()
    .Publishes<OrderConfirmed>()
    .SubscribesTo<PaymentAuthorized>());

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapConveyorHealth();
app.MapPlaceOrder();
app.MapGetOrder();

app.Run();
