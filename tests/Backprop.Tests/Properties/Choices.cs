using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Properties;

/// <summary>A built-in activation as the generators pick it, with the label a counterexample shows.</summary>
/// <param name="Label">The activation's name, with its parameter when it is not the default one.</param>
/// <param name="Activation">The instance (from the <see cref="Activations"/> factory, or constructed for another α).</param>
/// <param name="Kinked">Whether f′ or f″ jumps at z = 0 (ReLU, LeakyReLU, ELU), so that a finite difference must not straddle 0.</param>
/// <param name="Lipschitz">An upper bound of |f′| (of the Jacobian's ∞-norm for softmax): how much a change of z can move a.</param>
public sealed record ActivationChoice(string Label, IActivation Activation, bool Kinked, double Lipschitz)
{
    public override string ToString() => Label;
}

/// <summary>A weight initializer as the generators pick it.</summary>
public sealed record InitializerChoice(string Label, IInitializer Initializer)
{
    public override string ToString() => Label;
}

/// <summary>What the targets of a loss look like.</summary>
public enum TargetKind
{
    /// <summary>Any real values in [Low, High].</summary>
    Regression,

    /// <summary>Values in [0, 1]: a mix of hard labels 0 and 1 and soft ones.</summary>
    Binary,

    /// <summary>One-hot rows.</summary>
    OneHot,
}

/// <summary>An output activation and a loss that are valid together, and targets that fit the loss.</summary>
/// <param name="Label">For example "softmax + cross_entropy".</param>
/// <param name="Output">The output layer's activation.</param>
/// <param name="Loss">The loss.</param>
/// <param name="Targets">The kind of targets.</param>
/// <param name="MinUnits">The fewest output units that make sense (2 for a distribution over classes).</param>
/// <param name="Low">The smallest regression target.</param>
/// <param name="High">The largest regression target.</param>
public sealed record Head(string Label, ActivationChoice Output, ILossFunction Loss, TargetKind Targets, int MinUnits, double Low = 0, double High = 0)
{
    public override string ToString() => Label;

    /// <summary>rows × units targets drawn from <paramref name="seed"/>.</summary>
    public Matrix<T> MakeTargets<T>(int rows, int units, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new DeterministicRandom(seed);
        var values = new double[rows, units];
        for (int r = 0; r < rows; r++)
        {
            int hot = Targets == TargetKind.OneHot ? random.NextInt32(units) : -1;
            for (int j = 0; j < units; j++)
            {
                values[r, j] = Targets switch
                {
                    TargetKind.Regression => Low + ((High - Low) * random.NextDouble()),
                    TargetKind.Binary => ((r * units) + j) % 3 switch
                    {
                        0 => 0.0,
                        1 => 1.0,
                        _ => random.NextDouble(),
                    },
                    _ => j == hot ? 1.0 : 0.0,
                };
            }
        }

        return Matrix<T>.Build.Dense(rows, units, (r, j) => T.CreateChecked(values[r, j]));
    }
}

/// <summary>An optimizer with its hyper-parameters; <see cref="Create"/> gives a fresh instance (optimizers keep state).</summary>
public sealed record OptimizerChoice(string Label, Func<IOptimizer> Create)
{
    public override string ToString() => Label;
}
