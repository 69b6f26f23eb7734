using Npgsql;

namespace Integration.Tests.System;

/// <summary>Read-only looks into the endpoints' databases, to count what really happened.</summary>
public static class SystemDatabases
{
    public static async Task<T> ScalarAsync<T>(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    public static Task<long> PaymentsFor(Guid orderId) =>
        ScalarAsync<long>(RunningSystem.PaymentsDatabase, "select count(*) from payments where order_id = @o", ("o", orderId));

    public static async Task<string?> PaymentStatusOf(Guid orderId) =>
        await ScalarAsync<object>(RunningSystem.PaymentsDatabase, "select coalesce((select status from payments where order_id = @o), '')", ("o", orderId)) as string;

    public static Task<long> RefundsFor(Guid orderId) =>
        ScalarAsync<long>(RunningSystem.PaymentsDatabase, "select count(*) from refunds where order_id = @o", ("o", orderId));

    public static Task<long> NotificationsFor(Guid orderId) =>
        ScalarAsync<long>(RunningSystem.NotificationsDatabase, "select count(*) from sent_notifications where order_id = @o", ("o", orderId));

    /// <summary>Whether Payments has handled the envelope with this id (its inbox row says so).</summary>
    public static Task<long> HandledByPayments(Guid envelopeId) =>
        ScalarAsync<long>(RunningSystem.PaymentsDatabase,
            "select count(*) from wolverine.wolverine_incoming_envelopes where id = @id and status = 'Handled'", ("id", envelopeId));

    public static Task<long> HandledByNotifications(Guid envelopeId) =>
        ScalarAsync<long>(RunningSystem.NotificationsDatabase,
            "select count(*) from wolverine.wolverine_incoming_envelopes where id = @id and status = 'Handled'", ("id", envelopeId));
}
