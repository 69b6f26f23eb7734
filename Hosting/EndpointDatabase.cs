using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Conveyor.Hosting;

/// <summary>How every endpoint talks to its PostgreSQL database, at run time and for <c>dotnet ef</c> alike.</summary>
public static class EndpointDatabase
{
    public static DbContextOptionsBuilder UseEndpointDatabase(this DbContextOptionsBuilder options, NpgsqlDataSource database) =>
        options
            // No EF retrying strategy: it refuses the explicit transactions the outbox needs, and Wolverine
            // already retries the whole message on a transient failure.
            .UseNpgsql(database)
            // snake_case tables and columns, so plain SQL against the database needs no quoting.
            .UseSnakeCaseNamingConvention();

    /// <summary>Options for a design-time factory: <c>dotnet ef migrations add</c> needs the model, not a server.</summary>
    public static DbContextOptions<TDb> DesignTimeOptions<TDb>() where TDb : DbContext =>
        (DbContextOptions<TDb>)new DbContextOptionsBuilder<TDb>().UseEndpointDatabase(NpgsqlDataSource.Create("Host=design-time-only")).Options;
}
