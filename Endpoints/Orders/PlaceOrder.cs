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
/// <c>POST /orders</c>: validates the order, then stores it and its <see cref="OrderPlaced"/> event in one
/// transaction (the outbox), so an order is never stored without its event nor announced without being stored.
/// An optional <c>Idempotency-Key</c> header makes a retried request return the order it already created.
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

    public sealed record LineRequest(string? Sku, int? Quantity, decimal? UnitPrice);

    public sealed record Accepted(Guid Id, string Status);

    /// <summary>The message JSON settings, but a number must be a JSON number: "1" is not a quantity.</summary>
    private static readonly JsonSerializerOptions StrictJson = new(MessageJson.Options) { NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict };

    /// <summary>Every problem with the request, by field (JSON path), so a client can fix them all at once.</summary>
    public static Dictionary<string, string[]> Validate(Request request, string? idempotencyKey = null)
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

        if (string.IsNullOrWhiteSpace(request.Currency)) Fail("currency", "The currency is required.");
        else if (!Iso4217.IsCurrencyCode(request.Currency)) Fail("currency", $"'{request.Currency}' is not an ISO 4217 currency code.");

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
                else if (!IsIdentifier(line.Sku, "._-")) Fail($"{path}.sku", "The SKU may contain only letters, digits and . _ -.");

                if (line.Quantity is null) Fail($"{path}.quantity", "The quantity is required.");
                else if (line.Quantity <= 0) Fail($"{path}.quantity", "The quantity must be greater than zero.");
                else if (line.Quantity > MaxQuantity) Fail($"{path}.quantity", $"The quantity must be at most {MaxQuantity}.");

                if (line.UnitPrice is null) Fail($"{path}.unitPrice", "The unit price is required.");
                else if (line.UnitPrice < 0) Fail($"{path}.unitPrice", "The unit price must not be negative.");
                else if (decimal.Round(line.UnitPrice.Value, 4) != line.UnitPrice) Fail($"{path}.unitPrice", "The unit price can have at most 4 decimal places.");
            }
        }

        if (idempotencyKey is not null && (idempotencyKey.Length == 0 || idempotencyKey.Length > MaxIdempotencyKeyLength))
        {
            Fail(IdempotencyKeyHeader, $"The Idempotency-Key header must be 1 to {MaxIdempotencyKeyLength} characters.");
        }

        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
    }

    /// <summary>
    /// ASCII letters and digits plus a few separators: an identifier that is never markup, SQL or a look-alike
    /// (no control, format or confusable characters).
    /// </summary>
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

    public static IEndpointRouteBuilder MapPlaceOrder(this IEndpointRouteBuilder app)
    {
        app.MapPost("/orders", HandleAsync)
            .RequireAuthorization(ConveyorRoles.Customer)
            .WithName("PlaceOrder")
            .Accepts<Request>("application/json")
            .Produces<Accepted>(StatusCodes.Status202Accepted)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
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

        request = request with { CustomerId = customerId };
        var idempotencyKey = http.Headers.TryGetValue(IdempotencyKeyHeader, out var keys) ? keys.ToString() : null;
        var errors = Validate(request, idempotencyKey);
        if (errors.Count > 0)
        {
            return Results.ValidationProblem(errors, title: "The order is invalid");
        }

        var fingerprint = Fingerprint(request);
        if (idempotencyKey is not null)
        {
            var earlier = await FindByIdempotencyKeyAsync(outbox.DbContext, idempotencyKey, ct);
            if (earlier is not null) return Replay(earlier, fingerprint);
        }

        var lines = request.Lines!.Select(l => new OrderLine(l.Sku!.Trim(), l.Quantity!.Value, l.UnitPrice!.Value)).ToList();
        var (order, placed, deadline) = Order.Place(
            Guid.CreateVersion7(),
            request.CustomerId!.Trim(),
            request.CustomerEmail!,
            request.Currency!.ToUpperInvariant(),
            lines,
            request.PaymentToken!,
            clock.GetUtcNow());
        order.IdempotencyKey = idempotencyKey;
        order.RequestFingerprint = fingerprint;

        outbox.DbContext.Orders.Add(order);
        // The order id is the correlation id of everything that follows, in every endpoint.
        var correlated = new DeliveryOptions { CorrelationId = order.Id.ToString() };
        await outbox.PublishAsync(placed, correlated);
        await outbox.ScheduleAsync(deadline, options.Value.PaymentDeadline, correlated);
        try
        {
            await outbox.SaveChangesAndFlushMessagesAsync(ct);
            ConveyorTelemetry.OrdersPlaced.Add(1);
            ConveyorTelemetry.TagOrder(order.Id);
        }
        catch (DbUpdateException ex) when (idempotencyKey is not null && ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            // A concurrent request with the same key won the race; nothing of ours was committed.
            await using var scope = scopes.CreateAsyncScope();
            var winner = await FindByIdempotencyKeyAsync(scope.ServiceProvider.GetRequiredService<OrdersDb>(), idempotencyKey, ct);
            if (winner is not null) return Replay(winner, fingerprint);
            throw;
        }

        return Results.Accepted($"/orders/{order.Id}", new Accepted(order.Id, order.Status.ToString()));
    }

    private static Task<Order?> FindByIdempotencyKeyAsync(OrdersDb db, string key, CancellationToken ct) =>
        db.Orders.AsNoTracking().SingleOrDefaultAsync(o => o.IdempotencyKey == key, ct);

    private static IResult Replay(Order earlier, string fingerprint) =>
        earlier.RequestFingerprint == fingerprint
            ? Results.Accepted($"/orders/{earlier.Id}", new Accepted(earlier.Id, earlier.Status.ToString()))
            : Results.Problem(statusCode: StatusCodes.Status409Conflict,
                title: "Idempotency key reused",
                detail: $"The Idempotency-Key was already used for a different order ({earlier.Id}). Use a new key for a new order.");
}
