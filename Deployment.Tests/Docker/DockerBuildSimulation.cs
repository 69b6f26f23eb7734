using Deployment.Tests.Infrastructure;

namespace Deployment.Tests.Docker;

/// <summary>
/// Carries out a Dockerfile's file system steps without Docker: each stage gets a folder standing for its root
/// file system; WORKDIR, COPY (from the build context, minus what .dockerignore leaves out, or --from an
/// earlier stage) and RUN dotnet ... (or npm ...) act on it as they would in the image. So the restore runs with only the
/// files the Dockerfile copied before it, and the publish with only what it copied before that: a COPY of a
/// wrong path, a project reference the Dockerfile forgot, or a file left out of the context fails here.
/// </summary>
internal sealed class DockerBuildSimulation : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("conveyor-docker-build-").FullName;
    private readonly DockerIgnore _ignore = DockerIgnore.Read();
    private readonly Dictionary<string, string> _workdirs = [];

    /// <summary>A path inside a stage, mapped to the folder that stands for it.</summary>
    public string PathIn(string stage, string containerPath) => Path.Combine(_root, "stages", stage, containerPath.TrimStart('/'));

    public string WorkdirOf(string stage) => _workdirs.GetValueOrDefault(stage, "/");

    public async Task RunAsync(Dockerfile dockerfile)
    {
        for (var index = 0; index < dockerfile.Stages.Count; index++)
        {
            var stage = dockerfile.Stages[index];
            var name = StageName(dockerfile, index);
            Directory.CreateDirectory(PathIn(name, "/"));
            foreach (var instruction in stage.Instructions)
            {
                switch (instruction.Keyword)
                {
                    case "WORKDIR":
                        _workdirs[name] = Resolve(WorkdirOf(name), instruction.Arguments);
                        Directory.CreateDirectory(PathIn(name, WorkdirOf(name)));
                        break;
                    case "COPY":
                        Copy(dockerfile, name, instruction.Arguments);
                        break;
                    case "RUN":
                        await RunAsync(dockerfile, name, instruction.Arguments);
                        break;
                    case "FROM" or "ENV" or "EXPOSE" or "USER" or "HEALTHCHECK" or "ENTRYPOINT" or "CMD" or "LABEL" or "ARG":
                        break; // no effect on the files
                    default:
                        Assert.Fail($"{dockerfile.Path}: {instruction.Keyword} is not simulated; extend {nameof(DockerBuildSimulation)} or use another instruction.");
                        break;
                }
            }
        }
    }

    public static string StageName(Dockerfile dockerfile, int index) => dockerfile.Stages[index].Name ?? index.ToString();

    private static string Resolve(string workdir, string path) => path.StartsWith('/') ? path : $"{workdir.TrimEnd('/')}/{path}";

    private void Copy(Dockerfile dockerfile, string stage, string arguments)
    {
        var words = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
        var from = words.FirstOrDefault(w => w.StartsWith("--from=", StringComparison.Ordinal))?["--from=".Length..];
        Assert.That(words.Where(w => w.StartsWith("--", StringComparison.Ordinal) && !w.StartsWith("--from=", StringComparison.Ordinal)), Is.Empty,
            $"{dockerfile.Path}: COPY {arguments}: only --from is simulated");
        words.RemoveAll(w => w.StartsWith("--", StringComparison.Ordinal));
        var destination = Resolve(WorkdirOf(stage), words[^1]);
        var sources = words[..^1];
        var intoFolder = words[^1].EndsWith('/') || words[^1] is "." || sources.Count > 1;

        foreach (var source in sources)
        {
            Assert.That(source, Does.Not.Contain('*').And.Not.Contain('?'), $"{dockerfile.Path}: COPY {arguments}: wildcards are not simulated");
            var (path, relative) = from is null
                ? (Repository.PathTo(source), source.TrimEnd('/'))
                : (PathIn(from, Resolve(WorkdirOf(from), source)), (string?)null);
            if (relative is not null && _ignore.Ignores(relative)) Assert.Fail($"{dockerfile.Path}: COPY {source}: .dockerignore leaves it out of the build context");
            if (Directory.Exists(path))
            {
                CopyFolder(path, relative, PathIn(stage, destination));
            }
            else if (File.Exists(path))
            {
                var target = intoFolder ? Path.Combine(PathIn(stage, destination), Path.GetFileName(path)) : PathIn(stage, destination);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(path, target, overwrite: true);
            }
            else
            {
                Assert.Fail($"{dockerfile.Path}: COPY {arguments}: {source} does not exist{(from is null ? " in the build context" : $" in stage {from}")}");
            }
        }
    }

    private void CopyFolder(string source, string? relative, string target)
    {
        // A folder's contents are copied, not the folder itself; the context's ignored paths are not there.
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var inside = Path.GetRelativePath(source, file);
            if (relative is not null && _ignore.Ignores($"{relative}/{inside}")) continue;
            var destination = Path.Combine(target, inside);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination, overwrite: true);
        }
    }

    private async Task RunAsync(Dockerfile dockerfile, string stage, string command)
    {
        var words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(words[0], Is.AnyOf("dotnet", "npm"), $"{dockerfile.Path}: RUN {command}: only dotnet and npm commands are simulated");
        Assert.That(command, Does.Not.Contain('"').And.Not.Contain('\'').And.Not.Contain("&&"), $"{dockerfile.Path}: RUN {command}: one plain command, please");
        var arguments = words[1..].Select(word => word.StartsWith('/') ? PathIn(stage, word) : word);
        var result = await Command.RunAsync(words[0], arguments, PathIn(stage, WorkdirOf(stage)), new Dictionary<string, string>
        {
            // Leave no build servers behind: each simulated RUN is a fresh container in Docker too.
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["UseSharedCompilation"] = "false",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
        });
        Assert.That(result.ExitCode, Is.Zero, $"{dockerfile.Path}: RUN {command} failed:\n{result}");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A temporary folder left behind is harmless.
        }
    }
}
