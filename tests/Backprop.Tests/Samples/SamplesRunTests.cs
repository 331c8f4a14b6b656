using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Backprop.Tests.Samples;

/// <summary>Runs every sample as a process in a reduced mode and checks its exit code and output, so that samples
/// never go stale. The test project references the sample projects (without their assemblies) so they are built first.</summary>
public class SamplesRunTests : IDisposable
{
    private const string FashionMnistData = "/usr/share/datasets/fashion-mnist";
    private readonly string _output = Directory.CreateTempSubdirectory("backprop-samples-").FullName;

    public void Dispose() => Directory.Delete(_output, recursive: true);

    [Fact]
    public void Xor_learns_xor()
    {
        var run = Run("Xor");

        run.ExitCode.Should().Be(0, run.Describe());
        run.Lines.Should().Contain("XOR learned: 4/4 correct", run.Describe());
    }

    [Fact]
    public void Digits_trains_plots_and_ends_with_the_test_accuracy()
    {
        var run = Run("Digits", "--epochs", "2", "--seed", "1", "--output", _output);

        run.ExitCode.Should().Be(0, run.Describe());
        run.Lines.Should().Contain(l => l.StartsWith("epoch   2/2: loss ", StringComparison.Ordinal), "redirected output gets plain lines per epoch");
        run.Lines.Should().Contain(l => l.StartsWith("Confusion matrix: 359 samples, 10 classes", StringComparison.Ordinal));
        string png = Path.Combine(_output, "digits-training.png");
        run.Lines.Should().Contain($"training curves: {png}");
        File.ReadAllBytes(png).Take(8).Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A);
        LastLineNumber(run, @"^test accuracy: (0\.\d{4})$").Should().BeGreaterThan(0.85);
    }

    [Fact]
    public void CustomLayer_trains_checks_reloads_resumes_and_exports_its_own_layer()
    {
        var run = Run("CustomLayer");

        run.ExitCode.Should().Be(0, run.Describe());
        run.Lines.Should().Contain(l => l.StartsWith("Gradient check: 102 values compared", StringComparison.Ordinal) && l.EndsWith("passed", StringComparison.Ordinal));
        run.Lines.Should().Contain(l => l.StartsWith("  layer 0 scale ", StringComparison.Ordinal), "the custom layer's own parameters are checked");
        run.Lines.Should().Contain("checkpoint after 30 epochs, resumed for 30 more: identical to 60 at once True");
        var last = Regex.Match(run.Lines[^1], @"^custom layer: gradient check (\S+), reload identical True, onnx max diff (\S+)$");
        last.Success.Should().BeTrue(run.Describe());
        double.Parse(last.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture).Should().BeLessThan(1e-6);
        double.Parse(last.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture).Should().BeLessThan(1e-5);
    }

    [Fact]
    public void Regression_compares_with_least_squares_and_ends_with_r_squared()
    {
        var run = Run("Regression", "--epochs", "20");

        run.ExitCode.Should().Be(0, run.Describe());
        run.Lines.Should().Contain(l => l.StartsWith("linear baseline (least squares): R² 0.", StringComparison.Ordinal));
        LastLineNumber(run, @"^test R²: (-?\d+\.\d{4})$").Should().BeLessThanOrEqualTo(1);
    }

    [Fact]
    public void Penguins_reads_the_raw_table_saves_one_file_and_predicts_a_raw_row()
    {
        var run = Run("Penguins", "--output", _output);

        run.ExitCode.Should().Be(0, run.Describe());
        run.Lines.Should().Contain(l => l.StartsWith("penguins: 344 rows; features island (Categorical), bill_length_mm (Numeric, 2 missing)", StringComparison.Ordinal), run.Describe());
        run.Lines.Should().Contain(l => l.StartsWith("Confusion matrix: 86 samples, 3 classes", StringComparison.Ordinal), run.Describe());
        File.Exists(Path.Combine(_output, "penguins.bpnn")).Should().BeTrue();
        run.Lines.Should().Contain(l => l.StartsWith("\"Biscoe,48.6,16,230,5800,male\" → Gentoo (", StringComparison.Ordinal), run.Describe());
        LastLineNumber(run, @"^test accuracy: (0\.\d{4}|1\.0000)$").Should().BeGreaterThanOrEqualTo(0.97);
    }

    [Fact]
    public void FashionMnist_trains_on_a_subset_when_the_data_is_installed()
    {
        if (!Directory.Exists(FashionMnistData))
        {
            return; // Covered by the missing-data test; install dataset-fashion-mnist to run this one.
        }

        var run = Run("FashionMnist", "--limit", "2000", "--epochs", "1", "--hidden", "32", "--output", _output);

        run.ExitCode.Should().Be(0, run.Describe());
        run.Lines.Should().Contain(l => l.StartsWith("fashion-mnist: 2000 training and 10000 test images", StringComparison.Ordinal));
        run.Lines.Should().Contain(l => Regex.IsMatch(l, @"; \d+ samples/s over "));
        LastLineNumber(run, @"^test accuracy: (0\.\d{4})$").Should().BeGreaterThan(0.5);
    }

    [Fact]
    public void FashionMnist_trains_the_convolutional_network_when_the_data_is_installed()
    {
        if (!Directory.Exists(FashionMnistData))
        {
            return; // Covered by the argument test; install dataset-fashion-mnist to run this one.
        }

        var run = Run("FashionMnist", "--model", "cnn", "--limit", "2000", "--epochs", "1", "--output", _output);

        run.ExitCode.Should().Be(0, run.Describe());
        run.Lines.Should().Contain(l => l.StartsWith("model: Network<Single>(1×28×28 → Conv2D", StringComparison.Ordinal), run.Describe());
        run.Lines.Should().Contain(l => l.StartsWith("epoch   1/1: loss ", StringComparison.Ordinal) && l.EndsWith(" samples/s", StringComparison.Ordinal), "redirected output gets plain lines per epoch");
        run.Lines.Should().Contain(l => l.StartsWith("Confusion matrix: 10000 samples, 10 classes", StringComparison.Ordinal), run.Describe());
        string png = Path.Combine(_output, "fashion-mnist-cnn-training.png");
        run.Lines.Should().Contain($"training curves: {png}");
        File.ReadAllBytes(png).Take(8).Should().Equal(0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A);
        LastLineNumber(run, @"^test accuracy: (0\.\d{4})$").Should().BeGreaterThan(0.5);
    }

    [Fact]
    public void FashionMnist_streams_its_training_images_when_the_data_is_installed()
    {
        if (!Directory.Exists(FashionMnistData))
        {
            return; // Covered by the argument test below; install dataset-fashion-mnist to run this one.
        }

        var run = Run("FashionMnist", "--stream", "--buffer", "2000", "--epochs", "1", "--hidden", "16", "--output", _output);

        run.ExitCode.Should().Be(0, run.Describe());
        run.Lines.Should().Contain(l => l.StartsWith("fashion-mnist: 60000 training and 10000 test images of 784 pixels, test set read", StringComparison.Ordinal));
        run.Lines.Should().Contain("streamed from the IDX files through a shuffle buffer of 2000 rows");
        LastLineNumber(run, @"^test accuracy: (0\.\d{4})$").Should().BeGreaterThan(0.7);
    }

    [Theory]
    [InlineData("--stream --limit 100", "--limit cannot be combined with --stream")]
    [InlineData("--buffer 100", "--buffer needs --stream")]
    public void FashionMnist_rejects_contradictory_streaming_arguments_with_exit_code_2(string arguments, string message)
    {
        var run = Run("FashionMnist", arguments.Split(' '));

        run.ExitCode.Should().Be(2, run.Describe());
        run.Error.Should().Contain(message).And.Contain("usage:");
    }

    [Fact]
    public void FashionMnist_without_data_says_how_to_get_it_and_exits_with_1()
    {
        var run = Run("FashionMnist", "--data", Path.Combine(_output, "no-such-folder"));

        run.ExitCode.Should().Be(1, run.Describe());
        run.Error.Should().Contain("Fashion-MNIST was not found").And.Contain("apt-get install dataset-fashion-mnist").And.Contain("--data DIR");
    }

    [Fact]
    public void A_bad_argument_prints_the_usage_and_exits_with_2()
    {
        var run = Run("Digits", "--epochs", "zero");

        run.ExitCode.Should().Be(2, run.Describe());
        run.Error.Should().Contain("--epochs needs a whole number, but got 'zero'").And.Contain("usage:");
    }

    private static double LastLineNumber(SampleRun run, string pattern)
    {
        run.Lines.Should().NotBeEmpty(run.Describe());
        var match = Regex.Match(run.Lines[^1], pattern);
        match.Success.Should().BeTrue($"the last line must match {pattern}; {run.Describe()}");
        return double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static SampleRun Run(string sample, params string[] arguments)
    {
        string dll = SamplePath(sample);
        File.Exists(dll).Should().BeTrue($"the sample {sample} should have been built to {dll} (the test project references it)");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{sample} did not finish within 2 minutes.");
        }

        return new SampleRun(sample, process.ExitCode, output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray(), error.Result);
    }

    /// <summary>samples/NAME/bin/CONFIGURATION/TFM/NAME.dll, with this test assembly's configuration and framework.</summary>
    private static string SamplePath(string sample)
    {
        string configuration = typeof(SamplesRunTests).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        string framework = new DirectoryInfo(AppContext.BaseDirectory).Name;
        return Path.Combine(RepositoryRoot(), "samples", sample, "bin", configuration, framework, sample + ".dll");
    }

    internal static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Backprop.sln")))
            {
                return folder.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No folder above {AppContext.BaseDirectory} contains Backprop.sln.");
    }

    private sealed record SampleRun(string Sample, int ExitCode, string[] Lines, string Error)
    {
        public string Describe() => $"{Sample} exited with {ExitCode}; stdout:\n{string.Join('\n', Lines)}\nstderr:\n{Error}";
    }
}
