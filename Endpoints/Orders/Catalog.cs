using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Conveyor.Orders;

/// <summary>A product Orders sells. Its price is what an order pays: a client names the SKU and the quantity only.</summary>
public sealed class CatalogItem
{
    public required string Sku { get; init; }
    public required string Name { get; set; }
    public decimal UnitPrice { get; set; }
    public required string Currency { get; set; }

    /// <summary>For sale. A retired item stays, so the orders that bought it still name something that existed.</summary>
    public bool Active { get; set; }
}

/// <summary>
/// The catalog file (<c>deploy/catalog.json</c>, <c>Orders:CatalogFile</c>): read at start-up into the orders
/// database, so prices change without a code change — edit the file (a ConfigMap in Kubernetes) and restart.
/// </summary>
public static class Catalog
{
    public const int MaxNameLength = 200;
    public const decimal MaxUnitPrice = 1_000_000m;

    public sealed record Entry(string? Sku, string? Name, decimal UnitPrice, string? Currency, bool Active = true);

    private sealed record File(List<Entry>? Items);

    public static IReadOnlyList<Entry> Read(string path)
    {
        var file = JsonSerializer.Deserialize<File>(System.IO.File.ReadAllText(path), new JsonSerializerOptions(JsonSerializerDefaults.Web) { AllowTrailingCommas = true });
        return file?.Items ?? throw new InvalidOperationException($"The catalog {path} has no \"items\".");
    }

    /// <summary>Whatever would make an entry unsellable or ambiguous; a catalog with any of them is refused whole.</summary>
    public static IReadOnlyList<string> Problems(IReadOnlyList<Entry> entries)
    {
        var problems = new List<string>();
        foreach (var (entry, index) in entries.Select((e, i) => (e, i)))
        {
            var name = $"item {index} ({entry.Sku ?? "no SKU"})";
            if (string.IsNullOrWhiteSpace(entry.Sku) || !PlaceOrder.IsSku(entry.Sku)) problems.Add($"{name}: the SKU must be 1 to {PlaceOrder.MaxSkuLength} letters, digits and . _ -.");
            if (string.IsNullOrWhiteSpace(entry.Name) || entry.Name.Length > MaxNameLength) problems.Add($"{name}: the name must be 1 to {MaxNameLength} characters.");
            if (entry.UnitPrice <= 0 || entry.UnitPrice > MaxUnitPrice) problems.Add($"{name}: the unit price must be more than 0 and at most {MaxUnitPrice}.");
            else if (decimal.Round(entry.UnitPrice, 4) != entry.UnitPrice) problems.Add($"{name}: the unit price can have at most 4 decimal places.");
            if (entry.Currency is null || !Iso4217.IsCurrencyCode(entry.Currency)) problems.Add($"{name}: '{entry.Currency}' is not an ISO 4217 currency code.");
        }

        problems.AddRange(entries.Where(e => e.Sku is not null).GroupBy(e => e.Sku).Where(g => g.Count() > 1).Select(g => $"SKU {g.Key} is listed {g.Count()} times."));
        return problems;
    }

    /// <summary>Brings the stored catalog to the file's: new items added, changed ones updated, missing ones retired.</summary>
    public static void Apply(IReadOnlyList<Entry> entries, IDictionary<string, CatalogItem> stored, Action<CatalogItem> add)
    {
        foreach (var entry in entries)
        {
            if (stored.TryGetValue(entry.Sku!, out var item))
            {
                item.Name = entry.Name!;
                item.UnitPrice = entry.UnitPrice;
                item.Currency = entry.Currency!;
                item.Active = entry.Active;
            }
            else
            {
                add(new CatalogItem { Sku = entry.Sku!, Name = entry.Name!, UnitPrice = entry.UnitPrice, Currency = entry.Currency!, Active = entry.Active });
            }
        }

        var listed = entries.Select(e => e.Sku).ToHashSet();
        foreach (var retired in stored.Values.Where(i => !listed.Contains(i.Sku))) retired.Active = false;
    }
}

/// <summary>
/// Reads the catalog file into the database before Orders takes requests (hosted services start in order, the web
/// server last). A catalog that cannot be read or has problems stops the start: Orders never sells at a price it
/// was not given.
/// </summary>
internal sealed class LoadTheCatalogOnStartup(IOptions<OrdersOptions> options, IServiceScopeFactory scopes, ILogger<LoadTheCatalogOnStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var path = Path.GetFullPath(options.Value.CatalogFile, AppContext.BaseDirectory);
        var entries = Catalog.Read(path);
        if (Catalog.Problems(entries) is { Count: > 0 } problems)
        {
            throw new InvalidOperationException($"The catalog {path} cannot be used: {string.Join(" ", problems)}");
        }

        for (var attempt = 1; ; attempt++)
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<OrdersDb>();
            var stored = await db.Catalog.ToDictionaryAsync(i => i.Sku, cancellationToken);
            Catalog.Apply(entries, stored, item => db.Catalog.Add(item));
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                logger.LogInformation("Catalog {Path}: {Active} items for sale, {Retired} retired", path, entries.Count(e => e.Active), stored.Values.Count(i => !i.Active));
                return;
            }
            catch (DbUpdateException) when (attempt < 3)
            {
                // Another instance starting at the same moment inserted the same SKU: read again.
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
