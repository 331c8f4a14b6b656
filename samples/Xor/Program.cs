// The seed's own network, step by step: 2 inputs, 3 sigmoid hidden units, 1 sigmoid output, the sum of squared
// errors E = Σ (y − ŷ)², and gradient descent with learning rate 0.5 on the four XOR samples as one batch.
using System.Globalization;
using Backprop;
using MathNet.Numerics.LinearAlgebra;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
int epochs = args.Length > 1 && args[0] == "--epochs" ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5000;

var x = Matrix<double>.Build.DenseOfRowArrays([0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]);
var y = Matrix<double>.Build.DenseOfRowArrays([0.0], [1.0], [1.0], [0.0]);

var network = new Network<double>(inputs: 2, seed: 7,
    new Dense<double>(3, Activations.Sigmoid),
    new Dense<double>(1, Activations.Sigmoid));
var trainer = new Trainer<double>(network, Losses.SumSquaredError, new Sgd(learningRate: 0.5));

Console.WriteLine($"Network: {network}");
Print("Initial W1 (inputs × hidden)", ((Dense<double>)network.Layers[0]).Weights);
Print("Initial W2 (hidden × output)", ((Dense<double>)network.Layers[1]).Weights);

// Step 1: forward propagation, h = σ(X·W1 + b1), ŷ = σ(h·W2 + b2).
var pass = trainer.Forward(x);
Print("Step 1, forward propagation: hidden activations h", pass.GetActivations(0));
Print("Step 1, forward propagation: outputs ŷ", pass.GetOutput());

// Step 2: local gradients of the output layer, δ2 = ∂E/∂ŷ ⊙ σ'(z2) = 2(ŷ − y) ⊙ ŷ(1 − ŷ).
double error = trainer.ComputeLocalGradients(pass, y);
Console.WriteLine($"Step 2, error E = Σ (y − ŷ)² = {error:F6}");
Print("Step 2, ∂E/∂ŷ = 2(ŷ − y)", pass.GetPropagatedErrors(1));
Print("Step 2, output local gradients δ2", pass.GetLocalGradients(1));

// Step 3: backward propagation of errors, δ1 = (δ2·W2ᵀ) ⊙ h(1 − h); ∂E/∂W = inputᵀ·δ, ∂E/∂b = Σ δ.
trainer.BackpropagateErrors(pass);
Print("Step 3, errors propagated to the hidden layer δ2·W2ᵀ", pass.GetPropagatedErrors(0));
Print("Step 3, hidden local gradients δ1", pass.GetLocalGradients(0));
Print("Step 3, ∂E/∂W1 = Xᵀ·δ1", ((Dense<double>)network.Layers[0]).GetWeightGradients());
Print("Step 3, ∂E/∂W2 = hᵀ·δ2", ((Dense<double>)network.Layers[1]).GetWeightGradients());

// Step 4: adjusting weights and biases, w ← w − 0.5·∂E/∂w (the seed's code forgets the biases; we update them).
trainer.UpdateWeights(pass);
Print("Step 4, updated W1", ((Dense<double>)network.Layers[0]).Weights);
Print("Step 4, updated b1", ((Dense<double>)network.Layers[0]).Biases.ToRowMatrix());
Print("Step 4, updated W2", ((Dense<double>)network.Layers[1]).Weights);
Print("Step 4, updated b2", ((Dense<double>)network.Layers[1]).Biases.ToRowMatrix());

// The same four steps, repeated.
for (int epoch = 2; epoch <= epochs; epoch++)
{
    error = trainer.TrainBatch(x, y);
    if (epoch % 1000 == 0)
    {
        Console.WriteLine($"epoch {epoch,5}: E = {error:F6}");
    }
}

var predictions = network.Predict(x);
Console.WriteLine();
Console.WriteLine("x1 x2 | target | prediction");
for (int i = 0; i < 4; i++)
{
    Console.WriteLine($" {x[i, 0]}  {x[i, 1]} |   {y[i, 0]}    | {predictions[i, 0]:F4}");
}

int correct = Enumerable.Range(0, 4).Count(i => Math.Round(predictions[i, 0]) == y[i, 0]);
Console.WriteLine($"XOR learned: {correct}/4 correct");

static void Print(string title, Matrix<double> matrix)
{
    Console.WriteLine(title + ":");
    for (int r = 0; r < matrix.RowCount; r++)
    {
        Console.WriteLine("  [" + string.Join(", ", matrix.Row(r).Select(v => v.ToString("F6", CultureInfo.InvariantCulture).PadLeft(10))) + "]");
    }
}
