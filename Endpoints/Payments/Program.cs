using Conveyor.Hosting;
using Conveyor.Messages;
using Conveyor.Payments;

var builder = WebApplication.CreateBuilder(args);

builder.AddConveyorEndpoint<PaymentsDb>("payments", messaging => messaging
    .Publishes<PaymentAuthorized>()
    .Publishes<PaymentDeclined>()
    .Publishes<PaymentRefunded>()
    .SubscribesTo<OrderPlaced>()
    .SubscribesTo<OrderCancelled>());

builder.Services.AddSingleton(builder.Configuration.GetSection("PaymentProvider").Get<PaymentProviderSimulatorOptions>() ?? new());
// The simulator's books live in Payments' database (their own schema), so they outlast any Payments process.
builder.Services.AddSingleton<IProviderLedger, PostgresProviderLedger>();
builder.Services.AddSingleton(sp => new PaymentProviderSimulator(
    sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<PaymentProviderSimulatorOptions>(), sp.GetRequiredService<IProviderLedger>()));
builder.Services.AddSingleton<IPaymentProvider>(sp => sp.GetRequiredService<PaymentProviderSimulator>());

var app = builder.Build();

app.UseConveyorEdge();
app.MapConveyorOperations();
app.MapProviderOutage();

app.Run();
