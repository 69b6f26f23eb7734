using System.Net.Mail;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Conveyor.Hosting;
using Conveyor.Messages;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Wolverine;
using Wolverine.EntityFrameworkCore;

namespace Conveyor.Orders;

/// <summary>
/// <c>POST /orders</c>: validates the order, prices it from the catalog, then stores it and its
/// <see cref="OrderPlaced"/> event in one transaction (the outbox), so an order is never stored without its event
/// nor announced without being stored. The <c>Idempotency-Key</c> header is required: the same key and body from
/// the same customer answers the order it already created, so a client may retry whatever happened to its request.
/// </summary>
public static class PlaceOrder
{
    public const int MaxCustomerIdLength = 100;
    public const int MaxEmailLength = 254;
    public const int MaxIdempotencyKeyLength = 200;
    public const int MaxLines = 100;
    public const int MaxQuantity = 10_000;
    public const int MaxSkuLength = 64;
    public const int MaxPaymentTokenLength = 100;
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    public sealed record Request(
        string? CustomerId,
        string? CustomerEmail,
        string? Currency,
        string? PaymentToken,
        List<LineRequest>? Lines);

    /// <summary>A SKU and a quantity. <c>unitPrice</c> is read only to refuse it: prices come from the catalog.</summary>
    public sealed record LineRequest(string? Sku, int? Quantity, JsonElement? UnitPrice = null);

    public sealed record Accepted(Guid Id, string Status);

    /// <summary>The message JSON settings, but a number must be a JSON number: "1" is not a quantity.</summary>
    private static readonly JsonSerializerOptions StrictJson = new(MessageJson.Options) { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict };

    /// <summary>Every problem with the request, by field (JSON path), so a client can fix them all at once.</summary>
    public static Dictionary<string, string[]> Validate(Request request, string? idempotencyKey)
    {
        var errors = new Dictionary<string, List<string>>();
        void Fail(string field, string message)
        {
            if (!errors.TryGetValue(field, out var list)) errors[field] = list = [];
            list.Add(message);
        }

        if (string.IsNullOrWhiteSpace(request.CustomerId)) Fail("customerId", "The customer id is required.");
        else if (request.CustomerId.Length > MaxCustomerIdLength) Fail("customerId", $"The customer id must be at most {MaxCustomerIdLength} characters.");
        else if (!IsIdentifier(request.CustomerId, "@.:_-")) Fail("customerId", "The customer id may contain only letters, digits and @ . : _ -.");

        if (string.IsNullOrWhiteSpace(request.CustomerEmail)) Fail("customerEmail", "The customer e-mail address is required.");
        else if (request.CustomerEmail.Length > MaxEmailLength) Fail("customerEmail", $"The e-mail address must be at most {MaxEmailLength} characters.");
        else if (!IsEmailAddress(request.CustomerEmail)) Fail("customerEmail", "The customer e-mail address is not valid.");

        // Optional: the catalog prices every item; a client that names the currency it expects is told if it differs.
        if (request.Currency is not null && !Iso4217.IsCurrencyCode(request.Currency)) Fail("currency", $"'{request.Currency}' is not an ISO 4217 currency code.");

        if (string.IsNullOrWhiteSpace(request.PaymentToken)) Fail("paymentToken", "The payment token is required.");
        else if (request.PaymentToken.Length > MaxPaymentTokenLength || !IsIdentifier(request.PaymentToken, "_-")) Fail("paymentToken", "The payment token is not a token.");

        if (request.Lines is null || request.Lines.Count == 0) Fail("lines", "An order needs at least one line.");
        else if (request.Lines.Count > MaxLines) Fail("lines", $"An order can have at most {MaxLines} lines.");
        else
        {
            for (var i = 0; i < request.Lines.Count; i++)
            {
                var line = request.Lines[i];
                var path = $"lines[{i}]";
                if (line is null)
                {
                    Fail(path, "The line is empty.");
                    continue;
                }

                if (string.IsNullOrWhiteSpace(line.Sku)) Fail($"{path}.sku", "The SKU is required.");
                else if (line.Sku.Length > MaxSkuLength) Fail($"{path}.sku", $"The SKU must be at most {MaxSkuLength} characters.");
                else if (!IsSku(line.Sku)) Fail($"{path}.sku", "The SKU may contain only letters, digits and . _ -.");

                if (line.Quantity is null) Fail($"{path}.quantity", "The quantity is required.");
                else if (line.Quantity <= 0) Fail($"{path}.quantity", "The quantity must be greater than zero.");
                else if (line.Quantity > MaxQuantity) Fail($"{path}.quantity", $"The quantity must be at most {MaxQuantity}.");

                if (line.UnitPrice is not null) Fail($"{path}.unitPrice", "Prices come from the catalog: send the SKU and the quantity only.");
            }
        }

        if (string.IsNullOrEmpty(idempotencyKey))
        {
            Fail(IdempotencyKeyHeader, "The Idempotency-Key header is required (a new random value per order, the same on a retry): without it a retried request would place a second order.");
        }
        else if (idempotencyKey.Length > MaxIdempotencyKeyLength || !idempotencyKey.All(c => c is > ' ' and < (char)127))
        {
            Fail(IdempotencyKeyHeader, $"The Idempotency-Key header must be 1 to {MaxIdempotencyKeyLength} visible ASCII characters.");
        }

        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
    }

    /// <summary>
    /// ASCII letters and digits plus a few separators: an identifier that is never markup, SQL or a look-alike
    /// (no control, format or confusable characters).
    /// </summary>
    internal static bool IsSku(string value) => value.Length <= MaxSkuLength && IsIdentifier(value, "._-");

    private static bool IsIdentifier(string value, string separators) =>
        char.IsAsciiLetterOrDigit(value[0]) && value.All(c => char.IsAsciiLetterOrDigit(c) || separators.Contains(c));

    private static bool IsEmailAddress(string value) =>
        value.All(c => c is > ' ' and < (char)127 && c is not ('<' or '>' or '"' or '\\' or '(' or ')' or ',' or ';'))
        && MailAddress.TryCreate(value, out var address)
        && address.Address == value
        && address.Host.Contains('.');

    /// <summary>A stable hash of what the request asks for, to tell a retry from a different request under the same key.</summary>
    public static string Fingerprint(Request request) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(request, MessageJson.Options)));

    /// <summary>The order's lines at the catalog's prices, in the catalog's currency.</summary>
    public sealed record Priced(IReadOnlyList<OrderLine> Lines, string Currency);

    /// <summary>
    /// Prices a valid request from the catalog: every SKU must be for sale, all in one currency (and the one the
    /// client named, if it named one). Returns the priced lines or every problem, by field.
    /// </summary>
    public static (Priced? Order, Dictionary<string, string[]> Errors) Price(Request request, IReadOnlyDictionary<string, CatalogItem> catalog)
    {
        var errors = new Dictionary<string, string[]>();
        var lines = new List<OrderLine>();
        for (var i = 0; i < request.Lines!.Count; i++)
        {
            var line = request.Lines[i];
            var sku = line.Sku!.Trim();
            if (!catalog.TryGetValue(sku, out var item)) errors[$"lines[{i}].sku"] = [$"There is no product '{sku}'."];
            else if (!item.Active) errors[$"lines[{i}].sku"] = [$"'{sku}' is no longer for sale."];
            else lines.Add(new OrderLine(sku, line.Quantity!.Value, item.UnitPrice));
        }

        var currencies = request.Lines.Select(l => catalog.GetValueOrDefault(l.Sku!.Trim())?.Currency).OfType<string>().Distinct().ToList();
        if (currencies.Count > 1) errors["lines"] = [$"The products are priced in {string.Join(" and ", currencies)}: an order is paid in one currency."];
        else if (currencies.Count == 1 && request.Currency is { } expected && !string.Equals(expected, currencies[0], StringComparison.OrdinalIgnoreCase))
        {
            errors["currency"] = [$"The products are priced in {currencies[0]}, not {expected.ToUpperInvariant()}."];
        }

        return errors.Count > 0 ? (null, errors) : (new Priced(lines, currencies[0]), errors);
    }

    public static IEndpointRouteBuilder MapPlaceOrder(this IEndpointRouteBuilder app)
    {
        app.MapPost("/orders", HandleAsync)
            .RequireAuthorization(ConveyorRoles.Customer)
            .WithName("PlaceOrder")
            .Accepts<Request>("application/json")
            .Produces<Accepted>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return app;
    }

    private static async Task<IResult> HandleAsync(
        HttpRequest http,
        IDbContextOutbox<OrdersDb> outbox,
        IServiceScopeFactory scopes,
        IOptions<OrdersOptions> options,
        TimeProvider clock,
        CancellationToken ct)
    {
        if (!http.HasJsonContentType())
        {
            return Results.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType,
                title: "Unsupported media type", detail: "Send the order as application/json.");
        }

        // Read the body ourselves: a binding failure in minimal APIs answers an empty 400, and the
        // client deserves to know which part of its JSON is wrong.
        Request? request;
        try
        {
            request = await http.ReadFromJsonAsync<Request>(StrictJson, ct);
        }
        catch (JsonException ex)
        {
            return Results.ValidationProblem(
                new Dictionary<string, string[]> { [ex.Path ?? "$"] = [$"The request body is not valid JSON: {ex.Message}"] },
                title: "The order request is malformed");
        }

        if (request is null)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["$"] = ["The request body must be a JSON object."] },
                title: "The order request is malformed");
        }

        // The customer is whoever the token says; a body naming someone else is refused, not silently rewritten.
        var customerId = http.HttpContext.User.CustomerId();
        if (request.CustomerId is not null && request.CustomerId != customerId)
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["customerId"] = ["The customer comes from your access token; leave customerId out or send your own."] },
                title: "The order is invalid");
        }

        // So is the address its mail goes to: the provider's verified one, never one the body names.
        var email = http.HttpContext.User.VerifiedEmail();
        if (email is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "No verified e-mail address",
                detail: "Your account has no verified e-mail address, and Conveyor sends every order's confirmation to it. Verify your address with the identity provider, then sign in again.");
        }

        if (request.CustomerEmail is not null && !string.Equals(request.CustomerEmail, email, StringComparison.OrdinalIgnoreCase))
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["customerEmail"] = ["Order e-mail goes to your account's verified address; leave customerEmail out or send that address."] },
                title: "The order is invalid");
        }

        request = request with { CustomerId = customerId, CustomerEmail = email };
        var idempotencyKey = http.Headers.TryGetValue(IdempotencyKeyHeader, out var keys) ? keys.ToString() : null;
        var errors = Validate(request, idempotencyKey);
        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors, title: "The order is invalid");
        }

        // Validated above: a token without a usable subject has no customer id and never gets here.
        var customer = request.CustomerId!;
        var fingerprint = Fingerprint(request);
        var earlier = await FindByIdempotencyKeyAsync(outbox.DbContext, customer, idempotencyKey!, ct);
        if (earlier is not null) return Replay(earlier, fingerprint);

        var skus = request.Lines!.Select(l => l.Sku!.Trim()).Distinct().ToList();
        var catalog = await outbox.DbContext.Catalog.AsNoTracking().Where(i => skus.Contains(i.Sku)).ToDictionaryAsync(i => i.Sku, ct);
        var (priced, problems) = Price(request, catalog);
        if (priced is null)
        {
            return Results.ValidationProblem(problems, title: "The order cannot be priced");
        }

        var (order, placed, deadline) = Order.Place(
            Guid.CreateVersion7(),
            customer,
            request.CustomerEmail!,
            priced.Currency,
            priced.Lines,
            request.PaymentToken!,
            clock.GetUtcNow());
        order.IdempotencyKey = idempotencyKey;
        order.RequestFingerprint = fingerprint;

        outbox.DbContext.Orders.Add(order);
        // The order id is the correlation id of everything that follows, in every endpoint, and its conversation.
        var audited = AuditedRequest.Start(http.HttpContext, nameof(PlaceOrder), order.Id.ToString());
        await outbox.PublishAsync(placed, audited.Deliver());
        await outbox.ScheduleAsync(deadline, options.Value.PaymentDeadline, audited.Deliver());
        await audited.AuditAsync(outbox, outbox.DbContext, request);
        try
        {
            await outbox.SaveChangesAndFlushMessagesAsync(ct);
            ConveyorTelemetry.OrdersPlaced.Add(1);
            ConveyorTelemetry.TagOrder(order.Id);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // A concurrent request with the same key won the race; nothing of ours was committed.
            await using var scope = scopes.CreateAsyncScope();
            var winner = await FindByIdempotencyKeyAsync(scope.ServiceProvider.GetRequiredService<OrdersDb>(), customer, idempotencyKey!, ct);
            if (winner is not null) return Replay(winner, fingerprint);
            throw;
        }

        return Results.Accepted($"/orders/{order.Id}", new Accepted(order.Id, order.Status.ToString()));
    }

    private static Task<Order?> FindByIdempotencyKeyAsync(OrdersDb db, string customerId, string key, CancellationToken ct) =>
        db.Orders.AsNoTracking().SingleOrDefaultAsync(o => o.CustomerId == customerId && o.IdempotencyKey == key, ct);

    private static IResult Replay(Order earlier, string fingerprint) =>
        earlier.RequestFingerprint == fingerprint
            ? Results.Accepted($"/orders/{earlier.Id}", new Accepted(earlier.Id, earlier.Status.ToString()))
            : Results.Problem(statusCode: StatusCodes.Status422UnprocessableEntity,
                title: "Idempotency key reused",
                detail: $"You used this Idempotency-Key for another order request ({earlier.Id}). Use a new key for a new order.");
}
