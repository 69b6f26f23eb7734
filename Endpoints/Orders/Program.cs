using Conveyor.Hosting;
using Conveyor.Messages;
using Conveyor.Orders;

var builder = WebApplication.CreateBuilder(args);

builder.AddConveyorEndpoint<OrdersDb>("orders", messaging => messaging
    .Publishes<OrderPlaced>()
    .Publishes<OrderConfirmed>()
    .Publishes<OrderCancelled>()
    .Sends<RefundPayment>(to: "payments")
    .Sends<GetPaymentStatus>(to: "payments")
    .SubscribesTo<PaymentAuthorized>()
    .SubscribesTo<PaymentDeclined>()
    .SubscribesTo<PaymentRefunded>());

builder.Services.AddOptions<OrdersOptions>()
    .BindConfiguration("Orders")
    .ValidateDataAnnotations()
    .ValidateOnStart();

var app = builder.Build();

app.UseConveyorEdge();
app.MapConveyorOperations();
app.MapPlaceOrder();
app.MapGetOrder();
app.MapCancelOrder();
app.MapGetOrderPayment();

app.Run();
