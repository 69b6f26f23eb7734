using System.Text.RegularExpressions;
using Deployment.Tests.Infrastructure;

namespace Deployment.Tests.Docker;

/// <summary>
/// The root .dockerignore as Docker reads it: a path is left out of the build context when a pattern
/// matches it or one of its parent folders (`*` within a path segment, `**` across segments). Negated
/// patterns (`!`) are not supported here, and the tests make sure none is used.
/// </summary>
internal sealed class DockerIgnore
{
    private readonly IReadOnlyList<Regex> _patterns;

    private DockerIgnore(IReadOnlyList<string> patterns)
    {
        Patterns = patterns;
        _patterns = patterns.Select(ToRegex).ToList();
    }

    public IReadOnlyList<string> Patterns { get; }

    public static DockerIgnore Read() => new(
        File.ReadAllLines(Repository.PathTo(".dockerignore"))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .ToList());

    /// <summary>Whether <paramref name="path"/> (relative to the context, with /) stays out of the context.</summary>
    public bool Ignores(string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (var length = 1; length <= segments.Length; length++)
        {
            var prefix = string.Join('/', segments.Take(length));
            if (_patterns.Any(pattern => pattern.IsMatch(prefix))) return true;
        }

        return false;
    }

    private static Regex ToRegex(string pattern)
    {
        var text = pattern.Trim('/');
        var regex = Regex.Escape(text)
            .Replace(@"\*\*/", "(.*/)?")
            .Replace(@"\*\*", ".*")
            .Replace(@"\*", "[^/]*")
            .Replace(@"\?", "[^/]");
        return new Regex("^" + regex + "$", RegexOptions.CultureInvariant);
    }
}
