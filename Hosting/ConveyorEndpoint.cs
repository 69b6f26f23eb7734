using Conveyor.Hosting.ServiceControl;
using Conveyor.Messages;
using Conveyor.Topology;
using JasperFx;
using JasperFx.CodeGeneration;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wolverine;

namespace Conveyor.Hosting;

public static class ConveyorEndpoint
{
    /// <summary>Name of the queue that failed messages end in, shared by every endpoint.</summary>
    public const string ErrorQueue = SystemTopology.ErrorQueue;

    /// <summary>
    /// Makes this host the Conveyor endpoint <paramref name="endpoint"/> of the topology: it listens on its queue,
    /// bound to the exchanges of what it subscribes to and receives, publishes and sends to the exchanges of its
    /// messages (as its own broker user, which receivers check), owns the database behind
    /// <c>ConnectionStrings:Database</c> (schema migrated at start-up, envelopes stored beside the business rows),
    /// sends through a durable outbox, receives through a durable inbox, retries and dead-letters failures, audits what
    /// it handled, reports to ServiceControl, logs JSON, traces and counts, and answers <c>/health/live</c> and <c>/health/ready</c>.
    /// Handlers are discovered in the assembly that declares <typeparamref name="TDb"/>; <paramref name="customize"/>
    /// is for the rare endpoint-specific Wolverine setting.
    /// </summary>
    public static WebApplicationBuilder AddConveyorEndpoint<TDb>(
        this WebApplicationBuilder builder,
        EndpointTopology endpoint,
        Action<WolverineOptions>? customize = null)
        where TDb : DbContext
    {
        builder.AddLocalDevelopmentDefaults(endpoint);
        var connections = ConnectionSettings.From(builder.Configuration);
        var recoverability = RecoverabilityOptions.From(builder.Configuration);
        var audit = AuditOptions.From(builder.Configuration);
        builder.Services.AddSingleton(audit);
        builder.Services.AddSingleton(connections);
        builder.Services.AddSingleton(endpoint);
        builder.Services.AddSingleton(TimeProvider.System);

        var deliveryLimit = new BrokerDeliveryLimit();
        var telemetry = builder.AddConveyorTelemetry(endpoint.Name);
        builder.AddConveyorLogging(endpoint.Name, telemetry, deliveryLimit);
        builder.AddConveyorEdge();
        builder.AddConveyorAuthentication();
        builder.AddHeartbeats(endpoint);

        // Hosted services start one after the other, in registration order: the schema exists and the broker's
        // version is known before Wolverine handles (or declares) anything.
        var database = builder.AddEndpointDatabase<TDb>(connections);
        builder.Services.AddSingleton(deliveryLimit);
        builder.Services.AddHostedService<InspectBrokerOnStartup>();

        builder.Host.UseWolverine(opts =>
        {
            opts.ServiceName = endpoint.Name;
            opts.ApplicationAssembly = typeof(TDb).Assembly;
            opts.UseSystemTextJsonForSerialization(MessageJson.Configure);

            // A message this endpoint has no handler for is a routing mistake: keep it in the error
            // queue for an operator instead of acknowledging it into oblivion.
            opts.UnknownMessageBehavior = UnknownMessageBehavior.DeadLetterQueue;

            // The handler code is generated and compiled in at build time (Directory.Build.targets): loaded, not
            // compiled with Roslyn at start-up, which cost seconds of CPU and ~100 MB held for the process's life.
            // A host without it (a test's) sets Dynamic in customize.
            opts.CodeGeneration.TypeLoadMode = TypeLoadMode.Static;

            EndpointPersistence.Configure(opts, database);
            EndpointMessaging.Configure(opts, endpoint, connections);
            Auditing.Configure(opts, endpoint, audit, typeof(TDb));
            customize?.Invoke(opts);

            // One line per handled message: with the order id and trace id on it, an order's log tells its story.
            opts.Policies.MessageSuccessLogLevel(LogLevel.Information);
            opts.Policies.AddMiddleware(typeof(CheckTheSender));
            opts.Policies.AddMiddleware(typeof(ConfirmRetries));
            opts.Policies.AddMiddleware(typeof(MessageTelemetry));
            opts.Policies.Add(new LockSagasBeforeLoading(typeof(TDb)));

            // After the endpoint's own rules: the first matching rule wins, so an endpoint can override these.
            Recoverability.Apply(opts, recoverability, endpoint.Name);
        });

        builder.AddEndpointHealth<TDb>();
        builder.Services.AddProblemDetails();
        return builder;
    }

    /// <summary>
    /// Runs the host or, given a command line, that JasperFx command instead: the build's <c>codegen write</c>
    /// (Directory.Build.targets). Only then, because JasperFx's command runner prints plain text, and an endpoint's
    /// output is its ECS JSON log, line for line.
    /// </summary>
    public static async Task<int> RunEndpointAsync(this WebApplication app, string[] args)
    {
        if (args.Length > 0) return await app.RunJasperFxCommands(args);
        await app.RunAsync();
        return 0;
    }
}
