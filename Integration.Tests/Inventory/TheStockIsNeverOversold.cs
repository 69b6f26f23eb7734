using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conveyor.Topology;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;

namespace Integration.Tests.Inventory;

/// <summary>
/// Inventory, in Node.js, as a full participant in the order saga: it reserves every line of an order or none, never
/// sells what it does not have however many orders race for it, and gives the stock of a cancelled order back.
/// Counted in Inventory's, Payments' and Notifications' own databases.
/// </summary>
public class TheStockIsNeverOversold : SystemFixture
{
    private static string InventoryDatabase => SystemDatabases.ConnectionTo(SystemTopology.Inventory);

    /// <summary>The catalog's limited print (deploy/catalog.json): the tests set its stock themselves.</summary>
    private const string LimitedSku = "PRINT-LIMITED";

    /// <summary>Sold out in the catalog (stock 0): the demo's out-of-stock path.</summary>
    private const string SoldOutSku = "POSTER-SIGNED";

    private sealed record StockLevel(int Available, int Reserved, int Sold);

    private static async Task<StockLevel> StockOf(string sku)
    {
        var row = await Sql.ScalarAsync<string?>(InventoryDatabase, "select available || ',' || reserved || ',' || sold from stock where sku = @sku", ("sku", sku));
        var parts = (row ?? throw new AssertionException($"Inventory holds no stock row for {sku}")).Split(',').Select(int.Parse).ToArray();
        return new StockLevel(parts[0], parts[1], parts[2]);
    }

    /// <summary>
    /// Puts <paramref name="available"/> on the shelf, as a stock take would; what is reserved and sold stays, so Inventory's
    /// books (every reservation's lines add up to the reserved and sold counts) hold across tests. Returns the level as set.
    /// </summary>
    private static async Task<StockLevel> SetStock(string sku, int available)
    {
        var before = await StockOf(sku);
        await Sql.ExecuteAsync(InventoryDatabase, $"update stock set available = {available} where sku = '{sku}'");
        return before with { Available = available };
    }

    private static Task<string?> ReservationOf(Guid orderId) =>
        Sql.ScalarAsync<string?>(InventoryDatabase, "select status from reservations where order_id = @o", ("o", orderId));

    private async Task<Placed> PlaceOrderOf(string sku, int quantity, string token = "tok_ok")
    {
        var response = await OrderRequests.PostAsync(Api, new { currency = "EUR", paymentToken = token, lines = new object[] { new { sku, quantity } } });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        return new Placed(id, response.Headers.Location!);
    }

    /// <summary>
    /// The order's end: confirmed, or cancelled out of stock once no money is held for it any more (a payment taken
    /// before Inventory's answer arrived is refunded, so the order ends Refunded; one never taken is voided).
    /// </summary>
    private Task<JsonElement> WaitForTheEnd(Placed order) =>
        TestEnvironment.Eventually(async () =>
            {
                var view = await GetOrder(order.Location);
                var payment = await SystemDatabases.PaymentStatusOf(order.Id);
                return (view, payment);
            },
            state => StateOf(state.view) == "Confirmed" || (StateOf(state.view) is "Cancelled(OutOfStock)" or "Refunded(OutOfStock)" && state.payment is not "Authorized" and not null),
            $"order {order.Id} to be confirmed, or cancelled out of stock with no money held",
            TimeSpan.FromSeconds(120)).ContinueWith(t => t.Result.view);

    [Test]
    public async Task Fifty_concurrent_orders_for_ten_in_stock_confirm_exactly_ten_and_cancel_forty_out_of_stock()
    {
        var before = await SetStock(LimitedSku, 10);

        var orders = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => PlaceOrderOf(LimitedSku, 1)));
        // One order at a time: fifty pollers at once would take PostgreSQL's connections from the endpoints.
        var ends = new List<JsonElement>();
        foreach (var order in orders) ends.Add(await WaitForTheEnd(order));

        var confirmed = orders.Zip(ends).Where(o => StateOf(o.Second) == "Confirmed").Select(o => o.First.Id).ToList();
        var outOfStock = orders.Select(o => o.Id).Except(confirmed).ToList();
        // Inventory turns a reservation into a sale when it sees the confirmation: wait for the last of them.
        var stock = await TestEnvironment.Eventually(() => StockOf(LimitedSku), s => s.Sold == before.Sold + confirmed.Count && s.Reserved == before.Reserved, "every confirmed print sold");
        var reservations = new List<string?>();
        foreach (var order in orders) reservations.Add(await ReservationOf(order.Id));
        var payments = new List<string?>();
        foreach (var order in outOfStock) payments.Add(await SystemDatabases.PaymentStatusOf(order));
        var unbalanced = await Faults.SystemLedger.UnbalancedStockAsync();
        Assert.Multiple(() =>
        {
            Assert.That(confirmed, Has.Count.EqualTo(10), "exactly the stock is sold");
            Assert.That(outOfStock, Has.Count.EqualTo(40));
            Assert.That(stock, Is.EqualTo(before with { Available = 0, Sold = before.Sold + 10 }), "never below zero, nothing counted twice");
            Assert.That(reservations.Count(r => r == "Sold"), Is.EqualTo(10));
            Assert.That(reservations.Count(r => r == "Unavailable"), Is.EqualTo(40));
            Assert.That(payments, Is.All.AnyOf("Refunded", "Voided"), "no payment of a cancelled order is kept");
            Assert.That(unbalanced, Is.Empty, "every SKU's reserved and sold counts are what its reservations add up to");
        });
    }

    [Test]
    public async Task An_order_for_a_sold_out_item_is_cancelled_out_of_stock_its_payment_given_back_and_the_customer_told()
    {
        var before = await SetStock(SoldOutSku, 0);

        var order = await PlaceOrderOf(SoldOutSku, 1);
        var end = await WaitForTheEnd(order);

        await TestEnvironment.Eventually(() => SystemDatabases.NotificationsFor(order.Id), n => n >= 1, $"the cancellation e-mail of {order.Id} recorded");
        // A payment taken before the cancellation brings a refund e-mail too, in whichever order the two arrive.
        var mails = await TestEnvironment.Eventually(() => SmtpCatcher.MessagesAbout(order.Id), m => m.Any(x => x.Subject.EndsWith("was cancelled")), $"the cancellation e-mail of {order.Id}");
        Assert.Multiple(async () =>
        {
            Assert.That(StateOf(end), Is.AnyOf("Cancelled(OutOfStock)", "Refunded(OutOfStock)"));
            Assert.That(end.GetProperty("stock").GetString(), Is.EqualTo("Unavailable"));
            Assert.That(await ReservationOf(order.Id), Is.EqualTo("Unavailable"));
            Assert.That(await StockOf(SoldOutSku), Is.EqualTo(before), "nothing was held for it");
            Assert.That(mails.Select(m => m.Subject), Has.None.EndWith("is confirmed"));
            Assert.That(mails.Count(m => m.Subject.EndsWith("was cancelled")), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task A_confirmed_order_the_customer_cancels_gives_its_stock_back()
    {
        var before = await SetStock(LimitedSku, 5);
        var order = await PlaceOrderOf(LimitedSku, 2);
        await WaitForState(order, "Confirmed");
        await TestEnvironment.Eventually(() => StockOf(LimitedSku), s => s == before with { Available = 3, Sold = before.Sold + 2 }, "the two prints sold");

        var cancel = await Api.PostAsync($"{order.Location}/cancel", null);
        Assert.That(cancel.IsSuccessStatusCode, Is.True, await cancel.Content.ReadAsStringAsync());
        var refunded = await WaitForState(order, "Refunded(CustomerRequested)");
        var released = await TestEnvironment.Eventually(() => GetOrder(order.Location), o => o.GetProperty("stock").GetString() == "Released", $"order {order.Id} to hear its stock was released");

        Assert.Multiple(async () =>
        {
            Assert.That(await StockOf(LimitedSku), Is.EqualTo(before), "the prints are back on the shelf");
            Assert.That(await ReservationOf(order.Id), Is.EqualTo("Released"));
            Assert.That(StateOf(refunded), Is.EqualTo("Refunded(CustomerRequested)"));
            Assert.That(released.GetProperty("stock").GetString(), Is.EqualTo("Released"));
        });
    }
}
