namespace Backprop;

/// <summary>Ready-made instances of the built-in losses: <c>new Trainer&lt;float&gt;(network, Losses.CrossEntropy, optimizer)</c>.
/// Construct the classes directly for other settings.</summary>
/// <remarks>Thread safety: every instance is immutable and may be shared by any number of trainers training at once on
/// different threads.</remarks>
public static class Losses
{
    /// <summary>Mean squared error, averaged over all elements. See <see cref="Backprop.MeanSquaredError"/>.</summary>
    public static MeanSquaredError MeanSquaredError { get; } = new();

    /// <summary>Sum of squared errors, E = Σ (ŷ − y)², the seed's loss. See <see cref="Backprop.MeanSquaredError"/>.</summary>
    public static MeanSquaredError SumSquaredError { get; } = new(LossReduction.Sum);

    /// <summary>Mean absolute error. See <see cref="Backprop.MeanAbsoluteError"/>.</summary>
    public static MeanAbsoluteError MeanAbsoluteError { get; } = new();

    /// <summary>Huber loss with δ = 1. See <see cref="Backprop.Huber"/>.</summary>
    public static Huber Huber { get; } = new();

    /// <summary>Binary cross-entropy on probabilities (fused with a sigmoid output). See <see cref="Backprop.BinaryCrossEntropy"/>.</summary>
    public static BinaryCrossEntropy BinaryCrossEntropy { get; } = new();

    /// <summary>Binary cross-entropy on logits. See <see cref="Backprop.BinaryCrossEntropyWithLogits"/>.</summary>
    public static BinaryCrossEntropyWithLogits BinaryCrossEntropyWithLogits { get; } = new();

    /// <summary>Categorical cross-entropy on probabilities (fused with a softmax output). See <see cref="CategoricalCrossEntropy"/>.</summary>
    public static CategoricalCrossEntropy CrossEntropy { get; } = new();

    /// <summary>Categorical cross-entropy on logits. See <see cref="CategoricalCrossEntropyWithLogits"/>.</summary>
    public static CategoricalCrossEntropyWithLogits CrossEntropyWithLogits { get; } = new();
}
