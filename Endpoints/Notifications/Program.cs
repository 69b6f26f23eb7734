using Conveyor.Hosting;
using Conveyor.Messages;
using Conveyor.Notifications;

var builder = WebApplication.CreateBuilder(args);

builder.AddConveyorEndpoint<NotificationsDb>("notifications", messaging => messaging
    .SubscribesTo<OrderPlaced>()
    .SubscribesTo<OrderConfirmed>()
    .SubscribesTo<OrderCancelled>()
    .SubscribesTo<PaymentRefunded>());

builder.AddSmtpMailer();

var app = builder.Build();

app.UseConveyorEdge();
app.MapConveyorOperations();

app.Run();
