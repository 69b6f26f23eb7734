using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Conveyor.Messages;
using Json.Schema;

namespace Integration.Tests.Contracts;

/// <summary>
/// The JSON Schemas in Messages/schemas are the contract another language builds on; these tests keep the
/// C# types, the wire format and the schemas in agreement.
/// </summary>
public class EveryMessageMatchesItsSchema
{
    private static readonly string MessagesDirectory = Path.GetDirectoryName(typeof(MessageJson).Assembly.Location)!;

    public static IEnumerable<Type> MessageTypes => MessageJson.MessageTypes;

    // Parsed once: the library keeps a registry of schemas by $id and refuses to register one twice.
    private static readonly Dictionary<Type, JsonSchema> Schemas = MessageJson.MessageTypes.ToDictionary(
        t => t, t => JsonSchema.FromText(File.ReadAllText(Path.Combine(MessagesDirectory, "schemas", $"{t.Name}.schema.json"))));

    internal static JsonSchema SchemaFor(Type type) => Schemas[type];

    private static JsonNode SampleFor(Type type) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(MessagesDirectory, "samples", "current", $"{type.Name}.json")))!;

    internal static EvaluationResults Evaluate(JsonSchema schema, JsonNode? instance) =>
        schema.Evaluate(JsonSerializer.SerializeToElement(instance), new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });

    internal static string Describe(EvaluationResults results) =>
        string.Join("; ", (results.Details ?? []).Where(d => d.Errors is not null)
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));

    [Test]
    public void Every_schema_file_belongs_to_a_message_type_and_every_type_has_one()
    {
        var schemaNames = Directory.GetFiles(Path.Combine(MessagesDirectory, "schemas"), "*.schema.json")
            .Select(f => Path.GetFileName(f).Replace(".schema.json", ""));

        Assert.That(schemaNames, Is.EquivalentTo(MessageTypes.Select(t => t.Name)));
    }

    [TestCaseSource(nameof(MessageTypes))]
    public void The_schema_lists_exactly_the_serialized_properties_and_requires_every_non_nullable_one(Type type)
    {
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(MessagesDirectory, "schemas", $"{type.Name}.schema.json")))!;
        var schemaProperties = schema["properties"]!.AsObject().Select(p => p.Key);
        var required = schema["required"]!.AsArray().Select(r => r!.GetValue<string>());

        var typeInfo = MessageJson.Options.GetTypeInfo(type);
        var serialized = typeInfo.Properties.Select(p => p.Name).ToList();
        var nullability = new NullabilityInfoContext();
        var nonNullable = typeInfo.Properties
            .Where(p => p.AttributeProvider is PropertyInfo info && nullability.Create(info).ReadState == NullabilityState.NotNull)
            .Select(p => p.Name);

        Assert.Multiple(() =>
        {
            Assert.That(schemaProperties, Is.EquivalentTo(serialized), "schema properties vs. C# properties");
            Assert.That(required, Is.EquivalentTo(nonNullable), "required in schema vs. non-nullable in C#");
        });
    }

    [TestCaseSource(nameof(MessageTypes))]
    public void What_csharp_serializes_validates_against_the_schema_and_round_trips(Type type)
    {
        var message = JsonSerializer.Deserialize(SampleFor(type), type, MessageJson.Options)!;

        var json = JsonSerializer.SerializeToNode(message, type, MessageJson.Options);
        var results = Evaluate(SchemaFor(type), json);
        var roundTripped = JsonSerializer.Deserialize(json, type, MessageJson.Options);

        Assert.Multiple(() =>
        {
            Assert.That(results.IsValid, Is.True, Describe(results));
            Assert.That(JsonNode.DeepEquals(JsonSerializer.SerializeToNode(roundTripped, type, MessageJson.Options), json), Is.True,
                "the message read back serializes to the same JSON");
        });
    }

    [TestCaseSource(nameof(MessageTypes))]
    public void A_message_written_from_the_schema_alone_validates_and_deserializes(Type type)
    {
        var sample = SampleFor(type);

        var results = Evaluate(SchemaFor(type), sample);
        var message = JsonSerializer.Deserialize(sample, type, MessageJson.Options);

        Assert.Multiple(() =>
        {
            Assert.That(results.IsValid, Is.True, Describe(results));
            Assert.That(message, Is.Not.Null);
            foreach (var property in type.GetProperties().Where(p => p.CanWrite))
            {
                Assert.That(property.GetValue(message), Is.Not.Null, $"{type.Name}.{property.Name} was not read from the sample");
            }
        });
    }

    /// <summary>Every message as an earlier release wrote it: samples/v1, v2, …</summary>
    public static IEnumerable<TestCaseData> PreviousReleaseSamples() =>
        Directory.GetDirectories(Path.Combine(MessagesDirectory, "samples"), "v*")
            .SelectMany(release => Directory.GetFiles(release, "*.json"))
            .Select(file => new TestCaseData(file).SetArgDisplayNames($"{Path.GetFileName(Path.GetDirectoryName(file))}/{Path.GetFileName(file)}"));

    [TestCaseSource(nameof(PreviousReleaseSamples))]
    public void A_message_from_a_previous_release_still_validates_and_deserializes(string file)
    {
        var type = MessageTypes.Single(t => t.Name == Path.GetFileNameWithoutExtension(file));
        var old = JsonNode.Parse(File.ReadAllText(file))!;

        var results = Evaluate(SchemaFor(type), old);
        var message = JsonSerializer.Deserialize(old, type, MessageJson.Options);

        Assert.Multiple(() =>
        {
            Assert.That(results.IsValid, Is.True, Describe(results));
            Assert.That(message, Is.Not.Null);
        });
    }

    [TestCaseSource(nameof(MessageTypes))]
    public void The_schema_rejects_a_message_missing_a_required_field(Type type)
    {
        var sample = SampleFor(type).AsObject();
        sample.Remove("orderId");

        Assert.That(Evaluate(SchemaFor(type), sample).IsValid, Is.False);
    }

    [Test]
    public void Money_is_decimal_never_floating_point()
    {
        var floating = MessageTypes.SelectMany(t => t.GetProperties())
            .Where(p => p.PropertyType == typeof(double) || p.PropertyType == typeof(float))
            .Select(p => $"{p.DeclaringType!.Name}.{p.Name}");

        Assert.That(floating, Is.Empty);
    }
}
