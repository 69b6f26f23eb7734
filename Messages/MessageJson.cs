using System.Text.Json;
using System.Text.Json.Serialization;

namespace Conveyor.Messages;

/// <summary>
/// The wire format of every message: the JSON Schemas in <c>schemas/</c> describe exactly this shape,
/// and every endpoint's serializer is configured from here, so schema and wire cannot drift apart.
/// </summary>
public static class MessageJson
{
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.DictionaryKeyPolicy = JsonNamingPolicy.CamelCase;
        // Enum values travel as their names, as written in the schemas ("PaymentTimedOut").
        options.Converters.Add(new JsonStringEnumConverter());
        // Computed members such as OrderLine.LineTotal are conveniences, not part of the contract.
        options.IgnoreReadOnlyProperties = true;
        // Old and new versions run side by side during a rolling deploy: unknown fields are ignored.
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip;
    }

    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Configure(options);
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }

    /// <summary>Every message type of the contract: the events and commands this assembly declares.</summary>
    public static IReadOnlyList<Type> MessageTypes { get; } = typeof(MessageJson).Assembly.GetExportedTypes()
        .Where(t => t is { IsClass: true, IsAbstract: false } && (typeof(IEvent).IsAssignableFrom(t) || typeof(ICommand).IsAssignableFrom(t)))
        .OrderBy(t => t.Name, StringComparer.Ordinal)
        .ToList();
}
