using System.Diagnostics;
using System.Runtime.Loader;
using Conveyor.Topology;
using Integration.Tests.Infrastructure;
using Integration.Tests.System;

namespace Integration.Tests.Build;

/// <summary>
/// A .NET host runs the Wolverine handler code its build generated and compiled in (TypeLoadMode.Static), never code
/// of its own making: so that code must be what the sources generate now. The build embeds what it compiled
/// (Directory.Build.targets); here the built host writes its code again, as the build does, and the two must agree.
/// </summary>
public class EveryHostRunsTheHandlerCodeOfItsSources
{
    private static IEnumerable<string> DotNetEndpoints => SystemTopology.Endpoints.Where(e => e.Runtime == Runtime.DotNet).Select(e => e.Name);

    [TestCaseSource(nameof(DotNetEndpoints))]
    public async Task The_handler_code_compiled_in_is_what_codegen_writes_from_the_build(string name)
    {
        var (output, dll) = RunningSystem.BuildOutputOf(SystemTopology.Endpoints.Single(e => e.Name == name));
        var contentRoot = Directory.CreateTempSubdirectory("conveyor-handler-code-");
        try
        {
            foreach (var settings in Directory.GetFiles(output, "appsettings*.json"))
            {
                File.Copy(settings, Path.Combine(contentRoot.FullName, Path.GetFileName(settings)));
            }

            await Shell.RunAsync(new ProcessStartInfo("dotnet", [dll, "codegen", "write"])
            {
                WorkingDirectory = contentRoot.FullName,
                Environment = { ["ASPNETCORE_ENVIRONMENT"] = "Development", ["ASPNETCORE_CONTENTROOT"] = contentRoot.FullName },
            });

            var written = Path.Combine(contentRoot.FullName, "Internal", "Generated");
            var generated = Directory.GetFiles(written, "*.cs", SearchOption.AllDirectories)
                .ToDictionary(file => "HandlerCode/" + Path.GetRelativePath(written, file).Replace('\\', '/'), File.ReadAllText);
            var compiled = CompiledHandlerCode(dll);

            Assert.That(generated, Is.Not.Empty, "codegen write wrote no handler code");
            Assert.That(compiled.Keys, Is.EquivalentTo(generated.Keys), "the handler code files compiled in");
            Assert.Multiple(() =>
            {
                foreach (var (file, code) in generated)
                {
                    Assert.That(compiled[file], Is.EqualTo(code), $"{file} is stale: the host was built without writing its handler code again");
                }
            });
        }
        finally
        {
            contentRoot.Delete(recursive: true);
        }
    }

    private static Dictionary<string, string> CompiledHandlerCode(string dll)
    {
        var context = new AssemblyLoadContext("handler-code", isCollectible: true);
        try
        {
            var assembly = context.LoadFromAssemblyPath(dll);
            return assembly.GetManifestResourceNames().Where(n => n.StartsWith("HandlerCode/", StringComparison.Ordinal)).ToDictionary(n => n, n =>
            {
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return reader.ReadToEnd();
            });
        }
        finally
        {
            context.Unload();
        }
    }
}
