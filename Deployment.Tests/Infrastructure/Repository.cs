using System.Reflection;

namespace Deployment.Tests.Infrastructure;

/// <summary>The repository these tests check, found above the test assembly.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    /// <summary>Debug or Release: the configuration this assembly (and so the solution) was built in.</summary>
    public static string Configuration { get; } = typeof(Repository).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()!.Configuration;

    public static string PathTo(params string[] parts) => Path.Combine([Root, .. parts]);

    public static string Read(params string[] parts) => File.ReadAllText(PathTo(parts));

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Conveyor.slnx"))) directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("Conveyor.slnx not found above " + AppContext.BaseDirectory);
    }
}
