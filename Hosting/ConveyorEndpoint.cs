using Npgsql;
using Conveyor.Hosting.ServiceControl;
using Conveyor.Messages;
using JasperFx.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;
using Wolverine;
using Wolverine.EntityFrameworkCore;
using Wolverine.Postgresql;
using Wolverine.RabbitMQ;
using Wolverine.RabbitMQ.Internal;

namespace Conveyor.Hosting;

public static class ConveyorEndpoint
{
    /// <summary>Name of the queue that failed messages end in, shared by every endpoint.</summary>
    public const string ErrorQueue = "error";

    /// <summary>Health checks with this tag decide <c>/health/ready</c>.</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Makes this host a Conveyor endpoint: it listens on the queue <paramref name="name"/>, owns the
    /// database behind <c>ConnectionStrings:Database</c> (schema migrated at start-up, envelopes stored
    /// beside the business rows), sends through a durable outbox, receives through a durable inbox, retries
    /// and dead-letters failures, logs JSON and answers <c>/health/live</c> and <c>/health/ready</c>.
    /// Handlers are discovered in the assembly that declares <typeparamref name="TDb"/>.
    /// </summary>
    public static WebApplicationBuilder AddConveyorEndpoint<TDb>(
        this WebApplicationBuilder builder,
        string name,
        Action<ConveyorMessaging> messaging)
        where TDb : DbContext
    {
        var connections = ConnectionSettings.From(builder.Configuration);
        var recoverability = RecoverabilityOptions.From(builder.Configuration);
        builder.Services.AddSingleton(connections);
        builder.Services.AddSingleton(TimeProvider.System);

        var telemetry = builder.AddConveyorTelemetry(name);
        var deliveryLimit = new BrokerDeliveryLimit();
        builder.AddJsonLogging(name, telemetry, deliveryLimit);
        builder.AddConveyorEdge();
        builder.AddConveyorAuthentication();
        builder.Services.AddSingleton(new EndpointIdentity(name));
        builder.Services.AddSingleton(HeartbeatOptions.From(builder.Configuration));
        builder.Services.AddSingleton<MessageCounterListener>();
        builder.Services.AddHostedService<SendHeartbeats>();

        // Registered before Wolverine so the schema exists before the first message is handled:
        // hosted services start one after the other, in registration order.
        builder.Services.AddHostedService<MigrateDatabaseOnStartup<TDb>>();
        builder.Services.AddSingleton(deliveryLimit);
        builder.Services.AddHostedService<InspectBrokerOnStartup>();

        // One connection pool per process, shared by EF Core, Wolverine's inbox and outbox and the health
        // checks: `Maximum Pool Size` in the connection string then caps what the process holds (with a pool
        // each, a process held twice that, and a few instances ran PostgreSQL out of connections).
        var database = NpgsqlDataSource.Create(connections.Database);
        // Through a factory: the container then owns the pool and closes it when the host stops.
        builder.Services.AddSingleton(_ => database);
        builder.Services.AddDbContextWithWolverineIntegration<TDb>(db => db.UseEndpointDatabase(database));

        builder.Host.UseWolverine(opts =>
        {
            opts.ServiceName = name;
            opts.ApplicationAssembly = typeof(TDb).Assembly;
            opts.UseSystemTextJsonForSerialization(MessageJson.Configure);

            // A message this endpoint has no handler for is a routing mistake: keep it in the error
            // queue for an operator instead of acknowledging it into oblivion.
            opts.UnknownMessageBehavior = UnknownMessageBehavior.DeadLetterQueue;

            // Outbox and inbox live in the endpoint's own database, in their own schema, so a handler's
            // business rows and the messages it sends commit in one transaction.
            opts.PersistMessagesWithPostgresql(database, "wolverine");
            opts.UseEntityFrameworkCoreTransactions();
            opts.Policies.AutoApplyTransactions();
            opts.Policies.UseDurableInboxOnAllListeners();
            opts.Policies.UseDurableOutboxOnAllSendingEndpoints();
            opts.Policies.UseDurableLocalQueues();

            // Scheduled retries fire on this polling cycle; the default (5 s) stretches every delay.
            opts.Durability.ScheduledJobPollingTime = 250.Milliseconds();
            opts.Durability.ScheduledJobFirstExecution = 250.Milliseconds();
            // Elect the node that runs the durability agent (and so report ready) about 2 s after a cold
            // start instead of 13 s: the first election waits for the first check plus one polling period.
            // The price is a heartbeat and an assignment check per node every 2 s, a trivial query load.
            opts.Durability.FirstHealthCheckExecution = 500.Milliseconds();
            opts.Durability.HealthCheckPollingTime = 2.Seconds();
            // Node assignment checks run every few seconds on every node: traces of them would bury the orders'.
            opts.Durability.NodeAssignmentHealthCheckTracingEnabled = false;
            // A node killed without a goodbye (kill -9, OOM, a lost machine) still owns its inbox, outbox and due
            // scheduled messages until a live node ejects it: with the default of a minute its orders' payment
            // deadlines ran out meanwhile. Ejected after 10 s without a heartbeat, seen on two checks in a row
            // (2 s apart), so its work is taken over some 12-16 s after it died. Shorter would risk ejecting a live
            // node that a busy machine merely kept from its heartbeat for a few seconds.
            opts.Durability.StaleNodeTimeout = 10.Seconds();
            opts.Durability.OrphanedMessageSweepPollingTime = 1.Seconds();
            // A live node can lose track of a row, too: a database restart between a send and the deletion of its
            // outbox row, or between handling a message and marking it handled, left it owned by a node that would
            // never look at it again. Rows older than this are released to any node (a message this node still
            // holds has its clock restarted while it does); one sent or handled twice is a duplicate with the same
            // envelope id, which the receiving inbox discards. Well inside the payment deadline.
            opts.Durability.OutboxStaleTime = 20.Seconds();
            opts.Durability.InboxStaleTime = 20.Seconds();

            opts.UseRabbitMq(factory =>
                {
                    factory.Uri = connections.RabbitMqUri;
                    factory.ClientProvidedName = $"conveyor-{name}";
                    // Wolverine rebuilds its channels and consumers itself after a reconnect. The client's own
                    // topology recovery revives the old consumers beside them for a moment; with it on, a
                    // delivery during a broker restart vanished, with it off the restart test holds.
                    factory.TopologyRecoveryEnabled = false;
                })
                // The endpoint's own queue gets its delivery limit from InspectBrokerOnStartup (BrokerDeliveryLimit).
                .AutoProvision()
                // Without publisher confirms the outbox counts a message as sent once it is written to the
                // socket; a broker that restarts (or a quorum queue that is not ready) in that moment drops
                // it. With them, the send completes only when the broker has taken responsibility.
                .ConfigureChannelCreation(channel =>
                {
                    channel.PublisherConfirmationsEnabled = true;
                    channel.PublisherConfirmationTrackingEnabled = true;
                })
                // A quorum queue keeps every message on disk whatever its delivery mode (Wolverine publishes
                // dead letters as non-persistent): a broker restart loses no failed message.
                .CustomizeDeadLetterQueueing(new DeadLetterQueue(ErrorQueue)
                {
                    // Called when the transport starts, after InspectBrokerOnStartup: ServiceControl's ingestion
                    // requeues what it cannot store yet, which must not count towards a limit either.
                    ConfigureQueue = q =>
                    {
                        q.QueueType = QueueType.quorum;
                        q.DeliveryLimit = deliveryLimit.ForQuorumQueues;
                    },
                });

            var endpointMessaging = new ConveyorMessaging(opts);
            messaging(endpointMessaging);

            // Every endpoint reports to ServiceControl: heartbeats with its checks, and retries that now succeed.
            if (name == ServiceControlContract.Queue)
            {
                opts.PublishMessage<EndpointHeartbeat>().ToRabbitQueue(ServiceControlContract.Queue);
                opts.PublishMessage<RetrySucceeded>().ToRabbitQueue(ServiceControlContract.Queue);
            }
            else
            {
                endpointMessaging.Sends<EndpointHeartbeat>(to: ServiceControlContract.Queue).Sends<RetrySucceeded>(to: ServiceControlContract.Queue);
            }

            // One line per handled message: with the order id and trace id on it, an order's log tells its story.
            opts.Policies.MessageSuccessLogLevel(LogLevel.Information);
            opts.Policies.AddMiddleware(typeof(ConfirmRetries));
            opts.Policies.AddMiddleware(typeof(MessageTelemetry));

            // After the endpoint's own rules: the first matching rule wins, so an endpoint can override these.
            Recoverability.Apply(opts, recoverability, name);

            opts.ListenToRabbitQueue(name, queue =>
            {
                // Quorum queues: replicated and durable, what the deployed broker uses too.
                queue.QueueType = QueueType.quorum;
                foreach (var exchange in endpointMessaging.Subscriptions)
                {
                    queue.BindExchange(exchange);
                }
            });
        });

        builder.Services.AddSingleton<CompileHandlersOnStartup>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<CompileHandlersOnStartup>());

        // One instance for the process: AddCheck<T> would otherwise build a new check (and a new broker
        // connection) every time the checks run, which the heartbeats do every interval.
        builder.Services.AddSingleton<RabbitMqHealthCheck>();
        builder.Services.AddHealthChecks()
            .AddDbContextCheck<TDb>("database", tags: [ReadyTag])
            .AddCheck<RabbitMqHealthCheck>("broker", tags: [ReadyTag])
            .AddCheck<CompileHandlersOnStartup>("handlers", tags: [ReadyTag])
            .AddCheck<DurabilityAgentHealthCheck>("durability-agent", tags: [ReadyTag]);

        builder.Services.AddProblemDetails();
        return builder;
    }

    /// <summary>
    /// The operational endpoints: <c>/health/live</c> (the process answers) and <c>/health/ready</c> (database,
    /// broker, handlers, durability agent), both anonymous, and <c>/metrics</c> for Prometheus (from the scrape
    /// networks, or with an ops token).
    /// </summary>
    public static WebApplication MapConveyorOperations(this WebApplication app)
    {
        app.MapPrometheusScrapingEndpoint("/metrics").RequireAuthorization(Telemetry.MetricsPolicy);
        app.MapHealthChecks("/health/live", new HealthCheckOptions
        {
            Predicate = _ => false,
            ResponseWriter = HealthResponse.WriteAsync,
        });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(ReadyTag),
            ResponseWriter = HealthResponse.WriteAsync,
        });
        return app;
    }

    private static void AddJsonLogging(this WebApplicationBuilder builder, string endpoint, TelemetryOptions telemetry, BrokerDeliveryLimit deliveryLimit)
    {
        builder.Services.AddSerilog((services, logger) =>
        {
            logger
            .ReadFrom.Configuration(builder.Configuration)
            // Wolverine warns at every start that a quorum queue declared without x-delivery-limit is limited to 20
            // redeliveries: true on RabbitMQ 4, where the queue is declared with -1 and the warning never comes; on
            // RabbitMQ 3.x, where no argument means no limit, it would send an operator after a problem that is not there.
            .Filter.ByExcluding(e => deliveryLimit.IsUnlimitedWithoutArgument
                && e.MessageTemplate.Text.Contains("which Wolverine declared without an x-delivery-limit", StringComparison.Ordinal))
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.EntityFrameworkCore", LogEventLevel.Warning)
            .MinimumLevel.Override("Microsoft.Extensions.Diagnostics.HealthChecks", LogEventLevel.Warning)
            .MinimumLevel.Override("Wolverine.Runtime.WolverineRuntime", LogEventLevel.Warning)
            .Enrich.FromLogContext()
            .Enrich.With<OrderAndMessageEnricher>()
            // ECS JSON on stdout, one object per line: the shipper (deploy/otel-collector) sends it to Elasticsearch.
            .WriteTo.Console(new EcsJsonFormatter(endpoint));
            if (telemetry.OtlpEndpoint is { } otlp)
            {
                logger.WriteTo.OpenTelemetry(sink =>
                {
                    sink.Endpoint = new Uri(otlp, "v1/logs").ToString();
                    sink.Protocol = Serilog.Sinks.OpenTelemetry.OtlpProtocol.HttpProtobuf;
                    sink.ResourceAttributes["service.name"] = endpoint;
                    sink.ResourceAttributes["service.namespace"] = "conveyor";
                    sink.ResourceAttributes["service.instance.id"] = ConveyorTelemetry.InstanceId;
                });
            }
        });
    }
}
