using Conveyor.Hosting;
using Conveyor.Messages;
using Conveyor.Payments;

var builder = WebApplication.CreateBuilder(args);

builder.AddConveyorEndpoint<PaymentsDb>("payments", messaging => messaging
    .Publishes<PaymentAuthorized>()
    .SubscribesTo<OrderPlaced>());

builder.Services.AddSingleton<IPaymentProvider, PaymentProviderSimulator>();

var app = builder.Build();

app.MapConveyorHealth();

app.Run();
