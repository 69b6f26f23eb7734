using System.Diagnostics;
using Npgsql;

namespace Integration.Tests.Infrastructure;

/// <summary>Administrative moves on the local PostgreSQL, as the postgres OS user (root only).</summary>
public static class Postgres
{
    /// <summary>The role can no longer log in, and its open connections are closed: its database is gone for it.</summary>
    public static Task LockOutAsync(string role) => PsqlAsync(
        $"ALTER ROLE {role} NOLOGIN; SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '{role}';");

    public static async Task LetInAsync(string role)
    {
        await PsqlAsync($"ALTER ROLE {role} LOGIN;");
        // This process's own pooled connections of that role were terminated too.
        NpgsqlConnection.ClearAllPools();
    }

    private static async Task PsqlAsync(string sql)
    {
        using var process = Process.Start(new ProcessStartInfo("runuser", ["-u", "postgres", "--", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        await process.WaitForExitAsync();
        Assert.That(process.ExitCode, Is.Zero, $"psql {sql}: {await process.StandardError.ReadToEndAsync()}");
    }
}
