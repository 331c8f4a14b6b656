using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Optimizers;

/// <summary>Shared set-up of the optimizer tests: parameters, a fixed gradient sequence, small data sets and every optimizer by name.</summary>
internal static class OptimizerTestKit
{
    /// <summary>The starting values of the 3-element parameter of the hand-computed tests.</summary>
    public static readonly double[] Initial = [1.0, -2.0, 0.5];

    /// <summary>The gradients of updates 1, 2 and 3: value 0 keeps its sign, value 1 flips sign at update 2, value 2 is 0 at update 2 and flips at update 3.</summary>
    public static readonly double[][] Gradients = [[0.5, -1.0, 0.25], [0.3, 0.8, 0.0], [0.2, 0.6, -0.4]];

    /// <summary>The names accepted by <see cref="Create"/>.</summary>
    public static readonly string[] Names = ["sgd", "sgd-momentum", "sgd-nesterov-decay", "adam", "adam-decay", "adamw", "rmsprop", "rmsprop-momentum-centered", "adagrad", "rprop"];

    public static TheoryData<string> AllNames()
    {
        var data = new TheoryData<string>();
        foreach (string name in Names)
        {
            data.Add(name);
        }

        return data;
    }

    public static IOptimizer Create(string name) => name switch
    {
        "sgd" => new Sgd(0.1),
        "sgd-momentum" => new Sgd(0.1, momentum: 0.9),
        "sgd-nesterov-decay" => new Sgd(0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3),
        "adam" => new Adam(0.01),
        "adam-decay" => new Adam(0.01, weightDecay: 1e-3),
        "adamw" => new AdamW(0.01, weightDecay: 0.01),
        "rmsprop" => new RmsProp(0.01),
        "rmsprop-momentum-centered" => new RmsProp(0.005, momentum: 0.5, centered: true, weightDecay: 1e-3),
        "adagrad" => new Adagrad(0.1),
        "rprop" => new Rprop(0.1),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "no such optimizer in the test kit"),
    };

    /// <summary>A parameter of the given values: the weights of a one-unit dense layer.</summary>
    public static Parameter<T> MakeParameter<T>(ReadOnlySpan<double> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var network = new Network<T>(values.Length, new Dense<T>(1));
        var parameter = network.Layers[0].Parameters[0];
        for (int i = 0; i < values.Length; i++)
        {
            parameter.Values[i] = T.CreateChecked(values[i]);
        }

        return parameter;
    }

    public static void SetGradients<T>(Parameter<T> parameter, ReadOnlySpan<double> gradients)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < gradients.Length; i++)
        {
            parameter.Gradients[i] = T.CreateChecked(gradients[i]);
        }
    }

    /// <summary>
    /// Applies the optimizer's first three updates to a parameter and, after each, the reference rule to a plain copy,
    /// and checks that they agree to 1e-12 and that the optimizer left the gradients alone.
    /// </summary>
    /// <param name="optimizer">The optimizer under test, fresh.</param>
    /// <param name="reference">The published rule: (w, g, t) updates w in place for update t = 1, 2, 3.</param>
    public static void MatchesReferenceForThreeUpdates(IOptimizer optimizer, Action<double[], double[], int> reference)
    {
        var parameter = MakeParameter<double>(Initial);
        double[] w = (double[])Initial.Clone();
        for (int t = 1; t <= 3; t++)
        {
            double[] g = Gradients[t - 1];
            SetGradients(parameter, g);
            optimizer.Update(parameter);
            reference(w, (double[])g.Clone(), t);

            parameter.Values.ToArray().Should().Equal(w, (a, b) => Math.Abs(a - b) <= 1e-12, $"update {t} must follow the published rule");
            parameter.Gradients.ToArray().Should().Equal(g, $"update {t} must not change the gradients");
            parameter.Values.ToArray().Should().NotEqual(Initial, "the test must compare something that moved");
        }
    }

    /// <summary>y = sin(2·x₀) + x₁²/2 − x₀·x₁ on 64 points of [−1, 1]²: a smooth non-linear regression.</summary>
    public static (Matrix<double> X, Matrix<double> Y) Regression()
    {
        var random = new DeterministicRandom(11);
        var x = Matrix<double>.Build.Dense(64, 2, (_, _) => 2 * random.NextDouble() - 1);
        var y = Matrix<double>.Build.Dense(64, 1, (r, _) => Math.Sin(2 * x[r, 0]) + x[r, 1] * x[r, 1] / 2 - x[r, 0] * x[r, 1]);
        return (x, y);
    }

    /// <summary>Three Gaussian blobs in the plane, 30 points each, centred on the vertices of a triangle.</summary>
    public static (Matrix<double> X, int[] Labels) Classification()
    {
        var random = new DeterministicRandom(12);
        double[][] centres = [[0, 1.5], [-1.3, -0.75], [1.3, -0.75]];
        var labels = Enumerable.Range(0, 90).Select(i => i % 3).ToArray();
        var x = Matrix<double>.Build.Dense(90, 2, (r, c) => centres[labels[r]][c] + 0.6 * random.NextGaussian());
        return (x, labels);
    }
}
