namespace Conveyor.Topology;

/// <summary>
/// A part of a hand-written file that is derived from the topology: the lines between
/// <c>&gt;&gt;&gt; generated: name</c> and <c>&lt;&lt;&lt; generated: name</c>, written as comments of the file's own syntax.
/// Everything outside the markers stays the author's.
/// </summary>
/// <param name="Path">The file, from the repository root.</param>
/// <param name="Name">Which region of the file.</param>
/// <param name="Comment">The file's comment syntax.</param>
/// <param name="Lines">The region's content.</param>
public sealed record GeneratedRegion(string Path, string Name, CommentSyntax Comment, Func<IEnumerable<string>> Lines)
{
    public string Start => Comment.Wrap($">>> generated: {Name}. {GeneratedFiles.Banner}");

    public string End => Comment.Wrap($"<<< generated: {Name}");

    /// <summary><paramref name="text"/> with this region's content replaced; the markers keep their indentation.</summary>
    public string ApplyTo(string text) => Splice(text, Lines());

    /// <summary><paramref name="text"/> with this region emptied (what the author wrote, without what is derived).</summary>
    public string Without(string text) => Splice(text, []);

    private string Splice(string text, IEnumerable<string> content)
    {
        var lines = text.Split('\n').ToList();
        // The start marker is found by its beginning, so a changed banner is rewritten too.
        var start = lines.FindIndex(l => l.TrimStart().StartsWith($"{Comment.Open}>>> generated: {Name}.", StringComparison.Ordinal));
        var end = lines.FindIndex(l => l.Trim() == End.Trim());
        if (start < 0 || end < start)
            throw new InvalidOperationException($"{Path} has no region '{Name}': add the lines {Start} and {End} where it belongs.");

        var indent = lines[start][..(lines[start].Length - lines[start].TrimStart().Length)];
        var region = content.Select(l => l.Length == 0 ? l : indent + l);
        return string.Join('\n', lines.Take(start).Append(indent + Start.Trim()).Concat(region).Append(indent + End.Trim()).Concat(lines.Skip(end + 1)));
    }
}

/// <summary>How a file writes a comment line.</summary>
public sealed record CommentSyntax(string Open, string Close)
{
    public static readonly CommentSyntax Hash = new("# ", "");
    public static readonly CommentSyntax Html = new("<!-- ", " -->");
    /// <summary>A Helm template comment that also swallows its line, so the rendered text has no trace of it.</summary>
    public static readonly CommentSyntax HelmTemplate = new("{{/* ", " */ -}}");

    public string Wrap(string text) => Open + text + Close;
}
