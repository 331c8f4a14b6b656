using System.Diagnostics;
using System.Reflection;
using System.Text;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Backprop.Distributed.Tests;

/// <summary>A test that starts processes under <c>mpiexec</c>: skipped, with the reason, where <c>mpiexec</c> is not
/// installed, except in CI (<c>CI=true</c> or <c>BACKPROP_REQUIRE_MPI=1</c>), where it runs and fails instead.</summary>
public sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute()
    {
        if (MpiRun.Executable is null && !MpiRun.Required)
        {
            Skip = "mpiexec was not found on PATH: install Open MPI (apt-get install -y openmpi-bin libopenmpi-dev) to run the distributed tests; CI (.ci/run) installs it and runs them.";
        }
    }
}

/// <summary>What one <c>mpiexec</c> run printed and how it ended.</summary>
public sealed record MpiResult(int Processes, int ExitCode, string[] Lines, string Error, TimeSpan Elapsed)
{
    public string LastLine => Lines.Length == 0 ? "" : Lines[^1];

    public string Describe() => $"mpiexec -n {Processes} exited with {ExitCode} after {Elapsed.TotalSeconds:F1} s; stdout:\n{string.Join('\n', Lines)}\nstderr:\n{Error}";

    /// <summary>The digest after "weights sha256: " on rank 0's output.</summary>
    public string Digest => Lines.Single(l => l.StartsWith("weights sha256: ", StringComparison.Ordinal))["weights sha256: ".Length..];
}

/// <summary>Starts samples/Distributed (the worker) under <c>mpiexec</c>, loopback only, with a time limit after which the
/// whole process tree is killed.</summary>
public static class MpiRun
{
    public static string? Executable { get; } = Find("mpiexec");

    public static bool Required =>
        Environment.GetEnvironmentVariable("BACKPROP_REQUIRE_MPI") == "1"
        || string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static MpiResult Run(int processes, params string[] arguments) => Run(processes, TimeSpan.FromSeconds(90), arguments);

    public static MpiResult Run(int processes, TimeSpan limit, params string[] arguments)
    {
        Executable.Should().NotBeNull("mpiexec must be installed where the distributed tests are required (CI): apt-get install -y openmpi-bin libopenmpi-dev");
        string worker = WorkerPath();
        File.Exists(worker).Should().BeTrue($"the worker samples/Distributed should have been built to {worker} (the test project references it)");
        var start = new ProcessStartInfo(Executable!)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        foreach (string argument in new[]
        {
            "--allow-run-as-root", "--oversubscribe", "-n", processes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--mca", "btl", "self,vader,tcp", "--mca", "btl_tcp_if_include", "lo", "--mca", "oob_tcp_if_include", "lo",
            "-x", "TERM=dumb", dotnet, worker,
        }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            throw new TimeoutException($"mpiexec -n {processes} {string.Join(' ', arguments)} did not finish within {limit.TotalSeconds} s; stdout so far:\n{output.Result}\nstderr:\n{error.Result}");
        }

        process.WaitForExit();
        string[] lines = output.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
        return new MpiResult(processes, process.ExitCode, lines, error.Result, clock.Elapsed);
    }

    /// <summary>samples/Distributed/bin/CONFIGURATION/TFM/Distributed.dll, with this test assembly's configuration and framework.</summary>
    private static string WorkerPath()
    {
        string configuration = typeof(MpiRun).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        string framework = new DirectoryInfo(AppContext.BaseDirectory).Name;
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Backprop.sln")))
        {
            directory = directory.Parent;
        }

        directory.Should().NotBeNull("the tests run from inside the repository");
        return Path.Combine(directory!.FullName, "samples", "Distributed", "bin", configuration, framework, "Distributed.dll");
    }

    private static string? Find(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name))
            .FirstOrDefault(File.Exists);
}
