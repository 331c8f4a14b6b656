// A user's program against the packed Backprop package: XOR with a 2-8-2 tanh/softmax network, trained by SGD with
// Nesterov momentum on the cross-entropy loss, then exported to ONNX. tests/Packaging/run.sh checks the last line.
using System.Globalization;
using Backprop;
using MathNet.Numerics.LinearAlgebra;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

var x = Matrix<float>.Build.DenseOfRowArrays([0f, 0f], [0f, 1f], [1f, 0f], [1f, 1f]);
int[] labels = [0, 1, 1, 0];
var network = new Network<float>(inputs: 2, seed: 1,
    new Dense<float>(8, Activations.Tanh),
    new Dense<float>(2, Activations.Softmax));
var trainer = new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.1, momentum: 0.9, nesterov: true));
var history = trainer.Fit(x, labels, new FitOptions { Epochs = 500, BatchSize = 2, Seed = 3 });

Console.WriteLine($"Backprop {typeof(Network<>).Assembly.GetName().Version} from {Path.GetFileName(typeof(Network<>).Assembly.Location)}");
Console.WriteLine($"Network: {network}, {history.EpochsCompleted} epochs");
Matrix<float> probabilities = network.Predict(x);
int[] predicted = network.PredictClasses(x);
for (int r = 0; r < x.RowCount; r++)
{
    Console.WriteLine($"{x[r, 0]} XOR {x[r, 1]} -> {predicted[r]} (p = {probabilities[r, 1]:F4})");
}

byte[] onnx = network.ToOnnxBytes();
Console.WriteLine($"ONNX model: {onnx.Length} bytes, opset {OnnxExporter.OpsetVersion}");
bool correct = predicted.SequenceEqual(labels);
Console.WriteLine(correct ? "XOR OK: " + string.Join(' ', predicted) : "XOR FAILED: " + string.Join(' ', predicted));
return correct ? 0 : 1;
