using System.Reflection;
using Conveyor.Hosting;

namespace Handlers.Tests.Hosting;

/// <summary>The audit headers are a contract for endpoints in any language: the README's table names every one.</summary>
public class TheAuditContractIsDocumented
{
    [Test]
    public void Every_audit_header_is_in_the_readme()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Conveyor.slnx"))) root = Path.GetDirectoryName(root)!;
        var readme = File.ReadAllText(Path.Combine(root, "README.md"));
        var contract = readme[readme.IndexOf("## The audit contract", StringComparison.Ordinal)..];
        var headers = typeof(AuditHeaders).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetRawConstantValue()!).ToList();
        var intents = typeof(AuditHeaders.Intents).GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => (string)f.GetRawConstantValue()!).ToList();

        Assert.Multiple(() =>
        {
            Assert.That(headers, Has.Count.GreaterThan(15));
            Assert.That(headers.Where(h => !contract.Contains($"`{h}`", StringComparison.Ordinal)), Is.Empty, "headers the README's contract does not name");
            Assert.That(intents.Where(i => !contract.Contains($"`{i}`", StringComparison.Ordinal)), Is.Empty, "intents the README's contract does not name");
        });
    }
}
