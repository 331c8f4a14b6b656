using System.Globalization;
using System.Numerics;
using Google.Protobuf;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;

namespace Backprop.Tests.Serialization;

/// <summary>
/// Exports networks to ONNX and runs the files in ONNX Runtime, comparing its outputs with <see cref="Network{T}.Predict(Matrix{T})"/>.
/// </summary>
public sealed class OnnxExportTests(ITestOutputHelper output)
{
    /// <summary>Float networks: the same float32 arithmetic in another engine, differing only in summation order and
    /// in the transcendental functions' last bits.</summary>
    private const double FloatTolerance = 1e-5;

    public static TheoryData<string> ActivationNames =>
        ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "gelu", "silu", "softmax"];

    [Theory]
    [MemberData(nameof(ActivationNames))]
    public void Every_activation_runs_in_onnx_runtime_as_in_predict(string name)
    {
        var network = new Network<float>(inputs: 5, seed: 11,
            new Dense<float>(7, CreateActivation(name)),
            new Dense<float>(4, CreateActivation(name)));
        RandomizeBiases(network, seed: 5);
        var x = TestData.Random<float>(9, 5, seed: 3, scale: 3.0);

        double difference = CompareWithOnnxRuntime(network, x, FloatTolerance);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: max |onnx − predict| = {difference:E2}"));
    }

    [Fact]
    public void Dropout_layers_are_left_out_as_the_identity_they_are_at_inference()
    {
        var network = new Network<float>(inputs: 4, seed: 2,
            new Dropout<float>(0.2, seed: 1),
            new Dense<float>(8, Activations.ReLU),
            new Dropout<float>(0.5, seed: 2),
            new Dense<float>(3, Activations.Softmax),
            new Dropout<float>(0.1, seed: 3));
        RandomizeBiases(network, seed: 6);

        double difference = CompareWithOnnxRuntime(network, TestData.Random<float>(6, 4, seed: 4, scale: 2.0), FloatTolerance);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dropout: max |onnx − predict| = {difference:E2}"));
    }

    [Fact]
    public void A_network_of_dropout_alone_exports_as_the_identity()
    {
        var network = new Network<float>(inputs: 3, new Dropout<float>(0.5, seed: 1));
        var x = TestData.Random<float>(2, 3, seed: 4);

        CompareWithOnnxRuntime(network, x, 0).Should().Be(0);
    }

    [Fact]
    public void A_trained_three_layer_network_predicts_the_same_in_onnx_runtime()
    {
        var network = new Network<float>(inputs: 6, seed: 7,
            new Dense<float>(16, Activations.ReLU),
            new Dense<float>(8, Activations.Tanh),
            new Dense<float>(3, Activations.Softmax));
        var x = TestData.Random<float>(60, 6, seed: 8, scale: 2.0);
        int[] labels = Enumerable.Range(0, 60).Select(r => x[r, 0] > 0.5f ? 0 : x[r, 1] > 0 ? 1 : 2).ToArray();
        new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.05, momentum: 0.9))
            .Fit(x, labels, new FitOptions { Epochs = 20, BatchSize = 10, Seed = 1 });

        double difference = CompareWithOnnxRuntime(network, x, FloatTolerance);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"3-layer trained: max |onnx − predict| = {difference:E2}"));
    }

    [Fact]
    public void A_double_network_is_exported_in_float32_and_agrees_to_float_precision()
    {
        var network = new Network<double>(inputs: 5, seed: 12,
            new Dense<double>(10, Activations.GELU),
            new Dense<double>(6, new LeakyReLU(0.2)),
            new Dense<double>(3, Activations.Softmax));
        RandomizeBiases(network, seed: 9);
        var x = TestData.Random<double>(8, 5, seed: 10, scale: 2.0);

        // The weights, biases and inputs are rounded to float32 (relative error 2⁻²⁴ ≈ 6e-8 each) and the model
        // computes in float32: with |x| ≤ 2, |w| ≤ ~0.8 and at most 10 terms per sum, each layer's pre-activation
        // errs by at most ~10 · 2 · 0.8 · 3 · 6e-8 ≈ 3e-6, and the activations are 1-Lipschitz; 1e-4 leaves headroom.
        double difference = CompareWithOnnxRuntime(network, x, 1e-4);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"double network (float32 export): max |onnx − predict| = {difference:E2}"));
    }

    [Fact]
    public void The_model_declares_its_opset_ir_version_names_and_shapes()
    {
        var network = new Network<float>(inputs: 5, new Dense<float>(7, Activations.Tanh), new Dense<float>(2, Activations.Sigmoid));
        byte[] model = network.ToOnnxBytes();

        // Read back through ONNX Runtime's metadata.
        using var session = new InferenceSession(model);
        session.InputMetadata.Keys.Should().Equal("input");
        session.OutputMetadata.Keys.Should().Equal("output");
        var input = session.InputMetadata["input"];
        input.ElementDataType.Should().Be(TensorElementType.Float);
        input.Dimensions.Should().Equal(-1, 5);
        input.SymbolicDimensions[0].Should().Be("N");
        var outputInfo = session.OutputMetadata["output"];
        outputInfo.Dimensions.Should().Equal(-1, 2);
        outputInfo.SymbolicDimensions[0].Should().Be("N");
        session.ModelMetadata.ProducerName.Should().Be("Backprop");
        session.ModelMetadata.GraphName.Should().Be("backprop");
        session.ModelMetadata.Description.Should().Be(network.ToString());

        // ONNX Runtime does not report the opset, so decode ModelProto's ir_version (1) and opset_import (8) with
        // Google.Protobuf, independently of the exporter's own writer.
        var (irVersion, opsets) = ReadVersions(model);
        irVersion.Should().Be(8).And.Be(OnnxExporter.IrVersion);
        opsets.Should().Equal([(string.Empty, 17L)]);
        OnnxExporter.OpsetVersion.Should().Be(17);
    }

    [Fact]
    public void A_user_defined_activation_is_not_supported_and_the_message_names_the_layer()
    {
        var network = new Network<float>(inputs: 3,
            new Dense<float>(4, Activations.ReLU),
            new Dropout<float>(0.5, seed: 1),
            new Dense<float>(2, new Cube()));

        var act = () => network.ToOnnxBytes();
        act.Should().Throw<NotSupportedException>().WithMessage("Layer 2 (Dense(2, cube)) has activation 'cube'*Cube*no ONNX translation*");
    }

    [Fact]
    public void A_user_defined_layer_is_not_supported_and_the_message_names_the_layer()
    {
        var network = new Network<double>(inputs: 3, new Dense<double>(4, Activations.ReLU), new Negate());

        var act = () => network.ExportOnnx(new MemoryStream());
        act.Should().Throw<NotSupportedException>().WithMessage("Layer 1 (Negate, a *Negate) has no ONNX translation*IOnnxExportable*");
    }

    [Fact]
    public void Weights_that_are_not_finite_in_float32_are_rejected()
    {
        var network = new Network<double>(inputs: 2, new Dense<double>(3, Activations.Tanh));
        ((Dense<double>)network.Layers[0]).Weights[1, 2] = 1e300;

        var act = () => network.ToOnnxBytes();
        act.Should().Throw<ArgumentException>().WithParameterName("network").WithMessage("Layer 0's weights must be finite*float32*element 5 is 1E+300*");
    }

    [Fact]
    public void Saving_to_a_path_replaces_the_file_atomically_and_leaves_no_temporary_file()
    {
        string folder = Directory.CreateTempSubdirectory("backprop-onnx-").FullName;
        try
        {
            string path = Path.Combine(folder, "model.onnx");
            File.WriteAllText(path, "an older file");
            var network = new Network<float>(inputs: 2, seed: 3, new Dense<float>(3, Activations.SiLU));

            network.ExportOnnx(path);

            Directory.GetFiles(folder).Should().Equal(path);
            byte[] written = File.ReadAllBytes(path);
            written.Should().Equal(network.ToOnnxBytes(), "the file, the stream and the bytes hold one encoding");
            using var stream = new MemoryStream();
            network.ExportOnnx(stream);
            stream.ToArray().Should().Equal(written);
            using var session = new InferenceSession(path);
            session.OutputMetadata.Keys.Should().Equal("output");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Failures_leave_no_file_behind_and_bad_arguments_are_named()
    {
        string folder = Directory.CreateTempSubdirectory("backprop-onnx-").FullName;
        try
        {
            var unsupported = new Network<float>(inputs: 2, new Dense<float>(2, new Cube()));
            FluentActions.Invoking(() => unsupported.ExportOnnx(Path.Combine(folder, "model.onnx"))).Should().Throw<NotSupportedException>();
            Directory.GetFiles(folder).Should().BeEmpty();

            var network = new Network<float>(inputs: 2, new Dense<float>(2));
            FluentActions.Invoking(() => network.ExportOnnx(Path.Combine(folder, "missing", "model.onnx"))).Should().Throw<DirectoryNotFoundException>();
            FluentActions.Invoking(() => network.ExportOnnx("  ")).Should().Throw<ArgumentException>().WithParameterName("path");
            FluentActions.Invoking(() => network.ExportOnnx((string)null!)).Should().Throw<ArgumentNullException>().WithParameterName("path");
            FluentActions.Invoking(() => network.ExportOnnx((Stream)null!)).Should().Throw<ArgumentNullException>().WithParameterName("stream");
            FluentActions.Invoking(() => network.ExportOnnx(new MemoryStream([], writable: false))).Should().Throw<ArgumentException>()
                .WithParameterName("stream").WithMessage("*writable*");
            FluentActions.Invoking(() => OnnxExporter.ToOnnxBytes<float>(null!)).Should().Throw<ArgumentNullException>().WithParameterName("network");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static IActivation CreateActivation(string name) => name switch
    {
        "identity" => Activations.Identity,
        "sigmoid" => Activations.Sigmoid,
        "tanh" => Activations.Tanh,
        "relu" => Activations.ReLU,
        "leaky_relu" => new LeakyReLU(0.1),
        "elu" => new Elu(0.7),
        "softplus" => Activations.Softplus,
        "gelu" => Activations.GELU,
        "silu" => Activations.SiLU,
        "softmax" => Activations.Softmax,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "unknown activation"),
    };

    /// <summary>Biases start at 0; give them values so that the export of the bias is tested too.</summary>
    private static void RandomizeBiases<T>(Network<T> network, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new DeterministicRandom(seed);
        foreach (var dense in network.Layers.OfType<Dense<T>>())
        {
            for (int j = 0; j < dense.Units; j++)
            {
                dense.Biases[j] = T.CreateChecked(random.NextDouble() - 0.5);
            }
        }
    }

    /// <summary>Runs the exported model in ONNX Runtime, with and without its graph optimisations (which fuse, for
    /// example, the GELU pattern), and returns the largest absolute difference from Predict over both.</summary>
    internal static double CompareWithOnnxRuntime<T>(Network<T> network, Matrix<T> x, double tolerance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Matrix<T> expected = network.Predict(x);
        byte[] model = network.ToOnnxBytes();
        float[] input = x.ToRowMajorArray().Select(v => float.CreateChecked(v)).ToArray();
        double worst = 0;
        foreach (var level in new[] { GraphOptimizationLevel.ORT_DISABLE_ALL, GraphOptimizationLevel.ORT_ENABLE_ALL })
        {
            using var options = new SessionOptions { GraphOptimizationLevel = level };
            using var session = new InferenceSession(model, options);
            using var tensor = OrtValue.CreateTensorValueFromMemory(input, [x.RowCount, x.ColumnCount]);
            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, ["input"], [tensor], ["output"]);
            var shape = results[0].GetTensorTypeAndShape().Shape;
            shape.Should().Equal(x.RowCount, network.OutputSize);
            ReadOnlySpan<float> actual = results[0].GetTensorDataAsSpan<float>();
            for (int r = 0; r < x.RowCount; r++)
            {
                for (int c = 0; c < network.OutputSize; c++)
                {
                    double difference = Math.Abs(actual[r * network.OutputSize + c] - double.CreateChecked(expected[r, c]));
                    difference.Should().BeLessThan(tolerance == 0 ? double.Epsilon : tolerance, $"row {r}, column {c} at {level}");
                    worst = Math.Max(worst, difference);
                }
            }
        }

        return worst;
    }

    private static (long IrVersion, List<(string Domain, long Version)> Opsets) ReadVersions(byte[] model)
    {
        long irVersion = 0;
        var opsets = new List<(string, long)>();
        var input = new CodedInputStream(model);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1:
                    irVersion = input.ReadInt64();
                    break;
                case 8:
                    var opset = new CodedInputStream(input.ReadBytes().ToByteArray());
                    string domain = string.Empty;
                    long version = 0;
                    uint inner;
                    while ((inner = opset.ReadTag()) != 0)
                    {
                        switch (WireFormat.GetTagFieldNumber(inner))
                        {
                            case 1: domain = opset.ReadString(); break;
                            case 2: version = opset.ReadInt64(); break;
                            default: opset.SkipLastField(); break;
                        }
                    }

                    opsets.Add((domain, version));
                    break;
                default:
                    input.SkipLastField();
                    break;
            }
        }

        return (irVersion, opsets);
    }

    /// <summary>An activation the exporter cannot know: z³.</summary>
    private sealed class Cube : IActivation
    {
        public string Name => "cube";

        public void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            for (int i = 0; i < preActivations.Length; i++)
            {
                activations[i] = preActivations[i] * preActivations[i] * preActivations[i];
            }
        }

        public void Backward<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int width)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            for (int i = 0; i < preActivations.Length; i++)
            {
                localGradients[i] = T.CreateChecked(3) * preActivations[i] * preActivations[i] * outputGradients[i];
            }
        }
    }

    /// <summary>A layer the exporter cannot know: a = −x.</summary>
    private sealed class Negate : Layer<double>
    {
        public override string SavedForBackwardName => "none";

        public override int SavedForBackwardSize => 0;

        public override string ToString() => "Negate";

        protected override TensorShape OnBuild(TensorShape inputShape, DeterministicRandom random) => inputShape;

        protected override void OnForward(ReadOnlySpan<double> inputs, Span<double> preActivations, Span<double> activations, int rows, bool training)
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                activations[i] = -inputs[i];
            }
        }

        protected override void OnComputeLocalGradients(ReadOnlySpan<double> preActivations, ReadOnlySpan<double> activations, ReadOnlySpan<double> outputGradients, Span<double> localGradients, int rows)
        {
            for (int i = 0; i < outputGradients.Length; i++)
            {
                localGradients[i] = -outputGradients[i];
            }
        }

        protected override void OnBackpropagate(ReadOnlySpan<double> inputs, ReadOnlySpan<double> localGradients, Span<double> inputGradients, int rows) =>
            localGradients.CopyTo(inputGradients);
    }
}
