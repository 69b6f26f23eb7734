using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace Deployment.Tests.Infrastructure;

/// <summary>
/// YAML read into plain dictionaries and lists (merge keys and anchors resolved, as Compose resolves them),
/// with accessors that fail the test with the path when something is missing.
/// </summary>
internal static class Yaml
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder().Build();

    public static Dictionary<object, object?> Parse(string text) =>
        Deserializer.Deserialize<Dictionary<object, object?>>(new MergingParser(new Parser(new StringReader(text)))) ?? [];

    /// <summary>Every document of a multi-document stream (helm template output), empty ones skipped.</summary>
    public static IReadOnlyList<Dictionary<object, object?>> ParseAll(string text)
    {
        var parser = new Parser(new StringReader(text));
        parser.Consume<YamlDotNet.Core.Events.StreamStart>();
        var documents = new List<Dictionary<object, object?>>();
        while (parser.Accept<YamlDotNet.Core.Events.DocumentStart>(out _))
        {
            if (Deserializer.Deserialize<Dictionary<object, object?>?>(parser) is { } document) documents.Add(document);
        }

        return documents;
    }

    public static Dictionary<object, object?> Map(this object? node, string key) =>
        node.Find(key) as Dictionary<object, object?> ?? throw new AssertionException($"no mapping '{key}'");

    public static List<object?> List(this object? node, string key) =>
        node.Find(key) as List<object?> ?? throw new AssertionException($"no list '{key}'");

    public static string Text(this object? node, string key) =>
        node.Find(key)?.ToString() ?? throw new AssertionException($"no value '{key}'");

    /// <summary>The value at a dotted path (a.b.c), or null.</summary>
    public static object? Find(this object? node, string path)
    {
        foreach (var key in path.Split('.'))
        {
            if (node is not Dictionary<object, object?> map || !map.TryGetValue(key, out node)) return null;
        }

        return node;
    }

    public static IEnumerable<string> Keys(this Dictionary<object, object?> map) => map.Keys.Select(k => k.ToString()!);
}
