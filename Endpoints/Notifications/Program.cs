using Conveyor.Hosting;
using Conveyor.Notifications;
using Conveyor.Topology;
using JasperFx;

var builder = WebApplication.CreateBuilder(args);

// What it publishes, sends and subscribes to: Topology/SystemTopology.cs.
builder.AddConveyorEndpoint<NotificationsDb>(SystemTopology.Notifications);

builder.AddSmtpMailer();

var app = builder.Build();

app.UseConveyorEdge();
app.MapConveyorOperations();

// The host, or a JasperFx command given on the command line: the build runs `codegen write` (Directory.Build.targets).
return await app.RunJasperFxCommands(args);
