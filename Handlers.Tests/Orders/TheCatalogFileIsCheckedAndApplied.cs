using Conveyor.Orders;
using static Conveyor.Orders.Catalog;

namespace Handlers.Tests.Orders;

public class TheCatalogFileIsCheckedAndApplied
{
    [Test]
    public void The_catalog_the_repository_ships_has_no_problems()
    {
        var shipped = Read(Path.Combine(TestContext.CurrentContext.TestDirectory, "catalog.json"));
        Assert.Multiple(() =>
        {
            Assert.That(Problems(shipped), Is.Empty);
            Assert.That(shipped.Where(e => e.Active).Select(e => e.Sku), Is.SupersetOf(new[] { "BOOK-DDD", "MUG", "MUG-CONVEYOR" }), "what the demo, the tests and the bench buy");
        });
    }

    [Test]
    public void A_free_item_a_bad_SKU_or_currency_and_a_duplicate_are_all_reported()
    {
        var problems = Problems(
        [
            new Entry("FREE", "Free thing", 0m, "EUR"),
            new Entry("../etc", "Path", 1m, "EUR"),
            new Entry("EURO", "Euro priced", 1m, "EURO"),
            new Entry("TWICE", "One", 1m, "EUR"),
            new Entry("TWICE", "Two", 2m, "EUR"),
        ]);

        Assert.Multiple(() =>
        {
            Assert.That(problems, Has.Some.Contains("FREE").And.Contains("more than 0"));
            Assert.That(problems, Has.Some.Contains("../etc").And.Contains("SKU"));
            Assert.That(problems, Has.Some.Contains("'EURO'"));
            Assert.That(problems, Has.Some.Contains("TWICE is listed 2 times"));
        });
    }

    [Test]
    public void Applying_the_file_adds_updates_and_retires_but_never_deletes()
    {
        var stored = new Dictionary<string, CatalogItem>
        {
            ["BOOK"] = new() { Sku = "BOOK", Name = "Book", UnitPrice = 40m, Currency = "EUR", Active = true },
            ["OLD"] = new() { Sku = "OLD", Name = "Old", UnitPrice = 5m, Currency = "EUR", Active = true },
        };
        var added = new List<CatalogItem>();

        Apply([new Entry("BOOK", "Book, 2nd ed.", 42.50m, "EUR"), new Entry("MUG", "Mug", 9.95m, "EUR")], stored, added.Add);

        Assert.Multiple(() =>
        {
            Assert.That(stored["BOOK"].UnitPrice, Is.EqualTo(42.50m));
            Assert.That(stored["BOOK"].Name, Is.EqualTo("Book, 2nd ed."));
            Assert.That(stored["OLD"].Active, Is.False, "left out of the file: retired");
            Assert.That(added.Select(i => i.Sku), Is.EqualTo(new[] { "MUG" }));
        });
    }
}
