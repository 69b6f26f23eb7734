using Conveyor.Hosting;
using Conveyor.Notifications;
using Conveyor.Topology;

var builder = WebApplication.CreateBuilder(args);

// What it publishes, sends and subscribes to: Topology/SystemTopology.cs.
builder.AddConveyorEndpoint<NotificationsDb>(SystemTopology.Notifications);

builder.AddSmtpMailer();

var app = builder.Build();

app.UseConveyorEdge();
app.MapConveyorOperations();

return await app.RunEndpointAsync(args);
