using Conveyor.Topology;
using Integration.Tests.Infrastructure;

namespace Integration.Tests.System;

/// <summary>Read-only looks into the endpoints' databases, to count what really happened.</summary>
public static class SystemDatabases
{
    /// <summary>The tests' own database of an endpoint (a local run's is beside it): <c>orders_systest</c>.</summary>
    public static string TestDatabaseOf(EndpointTopology endpoint) => $"{endpoint.Database}_systest";

    public static string ConnectionTo(EndpointTopology endpoint) => TestEnvironment.Database(TestDatabaseOf(endpoint), endpoint.DatabaseRole);

    /// <summary>Every order stored (the tests of a fixture run one at a time, so a difference is theirs).</summary>
    public static Task<long> OrderRows() => Sql.ScalarAsync<long>(RunningSystem.OrdersDatabase, "select count(*) from orders");

    /// <summary>The orders stored under one <c>Idempotency-Key</c> (of any customer).</summary>
    public static Task<long> OrderRowsForKey(string idempotencyKey) =>
        Sql.ScalarAsync<long>(RunningSystem.OrdersDatabase, "select count(*) from orders where idempotency_key = @k", ("k", idempotencyKey));

    public static Task<long> PaymentsFor(Guid orderId) =>
        Sql.ScalarAsync<long>(RunningSystem.PaymentsDatabase, "select count(*) from payments where order_id = @o", ("o", orderId));

    public static Task<string?> PaymentStatusOf(Guid orderId) =>
        Sql.ScalarAsync<string?>(RunningSystem.PaymentsDatabase, "select status from payments where order_id = @o", ("o", orderId));

    public static Task<long> RefundsFor(Guid orderId) =>
        Sql.ScalarAsync<long>(RunningSystem.PaymentsDatabase, "select count(*) from refunds where order_id = @o", ("o", orderId));

    public static Task<long> NotificationsFor(Guid orderId) =>
        Sql.ScalarAsync<long>(RunningSystem.NotificationsDatabase, "select count(*) from sent_notifications where order_id = @o", ("o", orderId));

    /// <summary>Whether Payments has handled the envelope with this id (its inbox row says so).</summary>
    public static Task<long> HandledByPayments(Guid envelopeId) =>
        Sql.ScalarAsync<long>(RunningSystem.PaymentsDatabase,
            "select count(*) from wolverine.wolverine_incoming_envelopes where id = @id and status = 'Handled'", ("id", envelopeId));

    public static Task<long> HandledByNotifications(Guid envelopeId) =>
        Sql.ScalarAsync<long>(RunningSystem.NotificationsDatabase,
            "select count(*) from wolverine.wolverine_incoming_envelopes where id = @id and status = 'Handled'", ("id", envelopeId));

    /// <summary>The exact bytes ServiceControl stored for a failed message.</summary>
    /// <summary>The body ServiceControl keeps for the failure of this message (not a rejected copy claiming its id).</summary>
    public static Task<byte[]?> StoredBodyOf(string messageId) =>
        Sql.ScalarAsync<byte[]?>(RunningSystem.ServiceControlDatabase, "select body from failed_messages where message_id = @id and status <> @rejected",
            ("id", messageId), ("rejected", "Rejected"));
}
