using System.Globalization;
using System.Numerics;

namespace Backprop;

/// <summary>Weights per class for <see cref="FitOptions.ClassWeights"/>: given, or "balanced" from the class counts of
/// the training rows.</summary>
/// <remarks>
/// <para><see cref="Balanced"/> gives class c the weight n / (k · n_c), with n training rows, k classes and n_c rows of
/// class c (scikit-learn's class_weight="balanced"): every class then weighs as much in the loss as the others, whatever
/// its count. A class without training rows gets no weight (it has no rows to weigh).</para>
/// <para>Thread safety: immutable.</para>
/// </remarks>
public sealed class ClassWeights
{
    private readonly double[]? _weights;

    private ClassWeights(double[]? weights) => _weights = weights;

    /// <summary>Weights n / (k · n_c) from the training rows' class counts.</summary>
    public static ClassWeights Balanced => new(null);

    /// <summary>Whether these are <see cref="Balanced"/>.</summary>
    public bool IsBalanced => _weights is null;

    /// <summary>The given weights, one per class; null for <see cref="Balanced"/>.</summary>
    public IReadOnlyList<double>? Weights => _weights;

    /// <summary>Given weights, one per class in class-index order.</summary>
    /// <param name="weights">Each finite and at least 0.</param>
    /// <returns>The class weights.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="weights"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="weights"/> is empty or has a negative or non-finite weight.</exception>
    public static ClassWeights Of(params double[] weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Length == 0)
        {
            throw new ArgumentException("weights must have one weight per class, but it is empty.", nameof(weights));
        }

        for (int c = 0; c < weights.Length; c++)
        {
            if (!(weights[c] >= 0) || !double.IsFinite(weights[c]))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"weights[{c}] must be finite and at least 0, but it is {weights[c]}."), nameof(weights));
            }
        }

        return new ClassWeights((double[])weights.Clone());
    }

    /// <summary>The weight of each class for training rows of <paramref name="classes"/>.</summary>
    /// <param name="classes">The class of every training row.</param>
    /// <param name="classCount">The number of classes the network tells apart.</param>
    /// <returns>One weight per class.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="classes"/> is null.</exception>
    /// <exception cref="ArgumentException">Given weights are not one per class.</exception>
    public double[] For(IReadOnlyList<int> classes, int classCount)
    {
        ArgumentNullException.ThrowIfNull(classes);
        if (_weights is not null)
        {
            if (_weights.Length != classCount)
            {
                throw new ArgumentException($"options.ClassWeights has {_weights.Length} weights, but the network tells {classCount} classes apart; give one weight per class.", "options");
            }

            return (double[])_weights.Clone();
        }

        var counts = new long[classCount];
        foreach (int c in classes)
        {
            counts[c]++;
        }

        int present = counts.Count(n => n > 0);
        return counts.Select(n => n == 0 ? 0 : classes.Count / ((double)present * n)).ToArray();
    }

    /// <summary>Sample weights (or ones) times each row's class weight.</summary>
    internal T[] Apply<T>(T[]? sampleWeights, int[]? classes, int classCount, int rows)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (classes is null)
        {
            throw new ArgumentException("options.ClassWeights needs data whose rows have classes (labels, one-hot target rows, or the 0/1 targets of a binary classifier).", "options");
        }

        var perClass = For(classes, classCount);
        var weights = new T[rows];
        for (int r = 0; r < rows; r++)
        {
            double w = perClass[classes[r]] * (sampleWeights is null ? 1 : double.CreateChecked(sampleWeights[r]));
            weights[r] = T.CreateChecked(w);
        }

        if (!weights.Any(w => w > T.Zero))
        {
            throw new ArgumentException("options.ClassWeights times the sample weights leave every training sample with weight 0; at least one must count.", "options");
        }

        return weights;
    }

    /// <summary>Returns "balanced" or the weights.</summary>
    /// <returns>A short description.</returns>
    public override string ToString() => _weights is null ? "balanced" : string.Join(", ", _weights.Select(w => w.ToString(CultureInfo.InvariantCulture)));
}
