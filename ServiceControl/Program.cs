using System.Text.Json.Serialization;
using Conveyor.Hosting;
using Conveyor.ServiceControl;
using Conveyor.ServiceControl.Audit;
using Conveyor.ServiceControl.EndpointHealth;
using Conveyor.ServiceControl.FailedMessages;
using Conveyor.ServiceControl.Monitoring;
using Conveyor.ServiceControl.Operators;
using Conveyor.Topology;
using Microsoft.AspNetCore.DataProtection;

var builder = WebApplication.CreateBuilder(args);

// ServiceControl is an endpoint too: heartbeats and retry confirmations arrive on its queue, and it
// reports its own health like every other endpoint.
builder.AddConveyorEndpoint<ServiceControlDb>(SystemTopology.ServiceControl);

var options = ServiceControlOptions.From(builder.Configuration);
builder.Services.AddSingleton(options);

builder.Services.AddSingleton<IngestionStatus>();
builder.Services.AddHostedService<IngestErrorQueue>();
builder.Services.AddSingleton<AuditIngestionStatus>();
builder.Services.AddHostedService<IngestAuditQueue>();
builder.Services.AddHostedService<PurgeExpiredMessages>();
builder.Services.AddHostedService<ReturnUnconfirmedRetries>();
builder.Services.AddHostedService<ForgetLongGoneInstances>();
builder.Services.AddHostedService<FailedMessageGauges>();
builder.Services.AddSingleton<RetrySender>();
builder.Services.AddScoped<RetryFailedMessages>();
builder.Services.AddScoped<ArchiveFailedMessages>();
builder.Services.AddScoped<EditAndRetry>();
builder.Services.AddScoped<RetryRedirects>();
builder.Services.AddScoped<FailedMessageQueries>();
builder.Services.AddScoped<MessageQueries>();
builder.Services.AddScoped<EndpointStatuses>();
builder.Services.AddHttpContextAccessor();
builder.Services.AddScoped<AuditLog>();

builder.Services.AddSingleton<EndpointThroughput>();
builder.Services.AddHttpClient();
builder.Services.AddSingleton<QueueLengths>();
builder.Services.AddHostedService(sp => sp.GetRequiredService<QueueLengths>());

builder.Services.AddHealthChecks()
    .AddCheck<IngestionStatus>("ingestion", tags: [EndpointHealth.ReadyTag])
    .AddCheck<AuditIngestionStatus>("audit-ingestion", tags: [EndpointHealth.ReadyTag]);
builder.Services.ConfigureHttpJsonOptions(json => json.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
builder.AddPulseSignIn();
// In the database, not on the pod's disk: a rollout or a second replica keeps everyone signed in.
builder.Services.AddDataProtection().PersistKeysToDbContext<ServiceControlDb>().SetApplicationName("conveyor-servicecontrol");
builder.Services.AddRazorPages(pages =>
{
    // Reading Pulse needs support or ops; PulsePage lets only ops post actions.
    pages.Conventions.AuthorizeFolder("/", ConveyorRoles.Support);
    pages.Conventions.AllowAnonymousToPage("/AccessDenied");
    pages.Conventions.AllowAnonymousToPage("/SignOut");
});

var app = builder.Build();

app.UseConveyorEdge();
app.UseStaticFiles();
app.MapConveyorOperations();
app.MapServiceControlApi();
app.MapRazorPages();

return await app.RunEndpointAsync(args);
