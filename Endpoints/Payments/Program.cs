using Conveyor.Hosting;
using Conveyor.Payments;
using Conveyor.Topology;

var builder = WebApplication.CreateBuilder(args);

// What it publishes, sends and subscribes to: Topology/SystemTopology.cs.
builder.AddConveyorEndpoint<PaymentsDb>(SystemTopology.Payments);

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

return await app.RunEndpointAsync(args);
