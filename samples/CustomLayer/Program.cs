// A layer and an activation written outside the library, trained, checked, saved, resumed and exported like the
// built-ins. Run: dotnet run --project samples/CustomLayer
using System.Globalization;
using Backprop;
using CustomLayer;
using MathNet.Numerics.LinearAlgebra;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
string folder = Directory.CreateTempSubdirectory("backprop-custom-layer-").FullName;
try
{
    // Two interleaved half-moons, 2 features, 2 classes: a boundary no linear model draws.
    var (x, labels) = Moons(400, seed: 5);
    var y = Backprop.Data.OneHot.Encode<double>(labels, classCount: 2);

    // The registry that lets model files name the two types; saving needs none (each type describes itself).
    var registry = new ModelRegistry()
        .AddLayer<double>("sample.scale_shift", _ => new ScaleShift<double>())
        .AddActivation("sample.scaled_tanh", s => new ScaledTanh(s.GetDouble("amplitude"), s.GetDouble("slope")));

    Network<double> NewNetwork() => new(inputs: 2, seed: 7,
        new ScaleShift<double>(),
        new Dense<double>(16, new ScaledTanh()),
        new Dense<double>(2, Activations.Softmax));

    var network = NewNetwork();
    var trainer = new Trainer<double>(network, Losses.CrossEntropy, new Adam(0.02));
    var options = new FitOptions { Epochs = 60, BatchSize = 32, Seed = 3 };
    trainer.Fit(x, labels, options);
    int correct = network.PredictClasses(x).Zip(labels).Count(p => p.First == p.Second);
    Console.WriteLine($"trained {network}: training accuracy {correct / (double)labels.Length:0.0000}");

    // Every parameter, the custom layer's scale and shift included, against finite differences.
    var check = GradientCheck.Run(network, Losses.CrossEntropy, x.SubMatrix(0, 8, 0, 2), y.SubMatrix(0, 8, 0, 2));
    Console.Write(check);
    check.ThrowIfFailed();

    // Save and load through the registry: the loaded network predicts bit for bit what the trained one does.
    string modelPath = Path.Combine(folder, "custom.bpnn");
    network.Save(modelPath);
    var loaded = Network<double>.Load(modelPath, registry);
    bool identical = network.Predict(x).Equals(loaded.Predict(x));
    Console.WriteLine($"saved and reloaded: {loaded}");

    // A checkpoint resumes exactly: 30 + 30 epochs equal 60 at once.
    var first = new Trainer<double>(NewNetwork(), Losses.CrossEntropy, new Adam(0.02));
    first.Fit(x, labels, new FitOptions { Epochs = 30, BatchSize = 32, Seed = 3 });
    string checkpointPath = Path.Combine(folder, "custom.ckpt");
    first.SaveCheckpoint(checkpointPath);
    var resumed = Trainer<double>.LoadCheckpoint(checkpointPath, registry);
    resumed.Fit(x, labels, new FitOptions { Epochs = 30, BatchSize = 32, Seed = 3 });
    bool resumedIdentical = resumed.Network.Predict(x).Equals(network.Predict(x));
    Console.WriteLine($"checkpoint after 30 epochs, resumed for 30 more: identical to 60 at once {resumedIdentical}");

    double onnxDifference = OnnxCheck.MaxDifference(network, x, Path.Combine(folder, "custom.onnx"));
    Console.WriteLine(FormattableString.Invariant(
        $"custom layer: gradient check {check.MaxRelativeError:E2}, reload identical {identical && resumedIdentical}, onnx max diff {onnxDifference:E2}"));
    return identical && resumedIdentical && check.Passed && onnxDifference < 1e-5 ? 0 : 1;
}
finally
{
    Directory.Delete(folder, recursive: true);
}

static (Matrix<double> X, int[] Labels) Moons(int count, int seed)
{
    var random = new DeterministicRandom(seed);
    var rows = new double[count][];
    var labels = new int[count];
    for (int i = 0; i < count; i++)
    {
        int label = i % 2;
        double angle = Math.PI * random.NextDouble();
        rows[i] = label == 0
            ? [Math.Cos(angle) + 0.1 * random.NextGaussian(), Math.Sin(angle) + 0.1 * random.NextGaussian()]
            : [1 - Math.Cos(angle) + 0.1 * random.NextGaussian(), 0.5 - Math.Sin(angle) + 0.1 * random.NextGaussian()];
        labels[i] = label;
    }

    return (Matrix<double>.Build.DenseOfRowArrays(rows), labels);
}
