using System.Globalization;
using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Properties;

/// <summary>One layer of a generated network.</summary>
public abstract record LayerSpec
{
    /// <summary>A new, unbuilt layer of element type <typeparamref name="T"/>.</summary>
    public abstract Layer<T> Build<T>()
        where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>A <see cref="Dense{T}"/> layer.</summary>
public sealed record DenseSpec(int Units, ActivationChoice Activation, InitializerChoice Initializer, double L1 = 0, double L2 = 0) : LayerSpec
{
    public override Layer<T> Build<T>() => new Dense<T>(Units, Activation.Activation, Initializer.Initializer) { L1 = L1, L2 = L2 };

    public override string ToString()
    {
        var parts = new List<string> { Units.ToString(CultureInfo.InvariantCulture), Activation.Label };
        if (Initializer != Catalogue.Glorot)
        {
            parts.Add(Initializer.Label);
        }

        if (L1 != 0)
        {
            parts.Add(FormattableString.Invariant($"L1={L1}"));
        }

        if (L2 != 0)
        {
            parts.Add(FormattableString.Invariant($"L2={L2}"));
        }

        return $"Dense({string.Join(", ", parts)})";
    }
}

/// <summary>A <see cref="Dropout{T}"/> layer.</summary>
public sealed record DropoutSpec(double Rate, long Seed) : LayerSpec
{
    public override Layer<T> Build<T>() => new Dropout<T>(Rate, Seed);

    public override string ToString() => FormattableString.Invariant($"Dropout({Rate}, seed {Seed})");
}

/// <summary>
/// A generated network: input width, layers (the last one the output layer, a Dense layer with the head's activation),
/// the loss it is trained or checked with, and the seed of its weights.
/// </summary>
public sealed record NetworkSpec(int Inputs, IReadOnlyList<LayerSpec> Layers, Head Head, int Seed)
{
    public DenseSpec Output => (DenseSpec)Layers[^1];

    public int DenseLayers => Layers.Count(l => l is DenseSpec);

    /// <summary>A new network of these layers; weights from <paramref name="seed"/>, else from <see cref="Seed"/>.</summary>
    public Network<T> Build<T>(int? seed = null)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new(Inputs, seed ?? Seed, Layers.Select(l => l.Build<T>()).ToArray());

    /// <summary>rows × <see cref="Inputs"/> values uniform in [−1, 1], drawn from <paramref name="seed"/>.</summary>
    public Matrix<T> MakeInputs<T>(int rows, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var random = new DeterministicRandom(seed);
        var values = new double[rows, Inputs];
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < Inputs; i++)
            {
                values[r, i] = (2 * random.NextDouble()) - 1;
            }
        }

        return Matrix<T>.Build.Dense(rows, Inputs, (r, i) => T.CreateChecked(values[r, i]));
    }

    /// <summary>Targets for <see cref="MakeInputs{T}"/> from the same seed.</summary>
    public Matrix<T> MakeTargets<T>(int rows, int seed)
        where T : unmanaged, IFloatingPointIeee754<T> => Head.MakeTargets<T>(rows, Output.Units, unchecked(seed + 1));

    public override string ToString() =>
        $"{Inputs} → {string.Join(" → ", Layers)} | {Head} | seed {Seed.ToString(CultureInfo.InvariantCulture)}";
}
