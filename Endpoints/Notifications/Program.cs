using Conveyor.Hosting;
using Conveyor.Topology;
using Conveyor.Notifications;

var builder = WebApplication.CreateBuilder(args);

// What it publishes, sends and subscribes to: Topology/SystemTopology.cs.
builder.AddConveyorEndpoint<NotificationsDb>(SystemTopology.Notifications);

builder.AddSmtpMailer();

var app = builder.Build();

app.UseConveyorEdge();
app.MapConveyorOperations();

app.Run();
