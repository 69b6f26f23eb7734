using Npgsql;

namespace Integration.Tests.Infrastructure;

/// <summary>One-value reads from a real database, for tests that count what really happened.</summary>
public static class Sql
{
    public static async Task<T> ScalarAsync<T>(string connectionString, string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        // No row, or SQL NULL (an aggregate over nothing): the type's default, null for a nullable type.
        return await command.ExecuteScalarAsync() is { } result and not DBNull ? (T)result : default!;
    }

    public static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
