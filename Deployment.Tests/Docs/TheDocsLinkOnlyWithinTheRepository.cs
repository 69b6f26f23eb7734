using System.Text.RegularExpressions;
using Deployment.Tests.Infrastructure;

namespace Deployment.Tests.Docs;

/// <summary>
/// The README is the front door and <c>docs/</c> the rest of the house: every link in them leads to a file (and
/// heading) of this repository or to a local address of a running system, never outside it, and every document
/// in <c>docs/</c> can be reached from the README.
/// </summary>
public partial class TheDocsLinkOnlyWithinTheRepository
{
    private static IEnumerable<string> Documents() =>
        new[] { Repository.PathTo("README.md") }.Concat(Directory.GetFiles(Repository.PathTo("docs"), "*.md").Order());

    [GeneratedRegex(@"(?<!\!)\[[^\]]*\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"^https?://(127\.0\.0\.1|localhost)(:\d+)?(/|$)")]
    private static partial Regex LocalAddress();

    [Test]
    public void Every_link_resolves_inside_the_repository()
    {
        var problems = new List<string>();
        foreach (var document in Documents())
        {
            var name = Path.GetRelativePath(Repository.Root, document);
            foreach (Match link in Link().Matches(File.ReadAllText(document)))
            {
                var target = link.Groups[1].Value;
                if (LocalAddress().IsMatch(target)) continue;
                if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    problems.Add($"{name}: {target} leads outside the repository");
                    continue;
                }

                var (path, anchor) = target.Split('#', 2) is [var p, var a] ? (p, a) : (target, null);
                var file = path.Length == 0 ? document : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(document)!, path));
                if (!file.StartsWith(Repository.Root + Path.DirectorySeparatorChar, StringComparison.Ordinal)) problems.Add($"{name}: {target} leaves the repository");
                else if (!File.Exists(file) && !Directory.Exists(file)) problems.Add($"{name}: {target} does not exist");
                else if (anchor is not null && !Headings(file).Contains(anchor)) problems.Add($"{name}: {target} names no heading of {Path.GetFileName(file)}");
            }
        }

        Assert.That(problems, Is.Empty);
    }

    [Test]
    public void Every_document_is_reachable_from_the_readme()
    {
        var readme = File.ReadAllText(Repository.PathTo("README.md"));
        var linked = Link().Matches(readme).Select(m => m.Groups[1].Value.Split('#')[0]).ToHashSet();

        Assert.That(Directory.GetFiles(Repository.PathTo("docs"), "*.md").Select(f => $"docs/{Path.GetFileName(f)}").Where(d => !linked.Contains(d)), Is.Empty);
    }

    /// <summary>The anchors a Markdown renderer gives a file's headings (lower case, spaces to hyphens, punctuation dropped).</summary>
    private static HashSet<string> Headings(string file) =>
        File.ReadLines(file)
            .Where(line => line.StartsWith('#'))
            .Select(line => new string(line.TrimStart('#').Trim().ToLowerInvariant()
                .Where(c => char.IsLetterOrDigit(c) || c is ' ' or '-' or '_').ToArray()).Replace(' ', '-'))
            .ToHashSet();
}
