using Conveyor.Topology;

// Writes every file derived from Topology/SystemTopology.cs into the repository at args[0] (default: the working
// directory) and names the ones that changed. `--check` writes nothing and fails if any is stale.
var check = args.Contains("--check");
var root = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal)) ?? Directory.GetCurrentDirectory();
if (!File.Exists(Path.Combine(root, "Conveyor.slnx")))
{
    Console.Error.WriteLine($"{root} is not the repository root (no Conveyor.slnx there).");
    return 2;
}

if (check)
{
    var stale = GeneratedFiles.Stale(root);
    foreach (var path in stale) Console.Error.WriteLine($"stale: {path}");
    return stale.Count == 0 ? 0 : 1;
}

foreach (var path in GeneratedFiles.WriteAll(root)) Console.WriteLine($"wrote {path}");
return 0;
