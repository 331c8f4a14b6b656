namespace Backprop;

/// <summary>
/// A loss over independent yes/no outputs: binary classification with one output, multi-label classification with
/// several. The trainer reads such a network's outputs as one decision per output, not as a distribution over classes.
/// </summary>
/// <remarks>
/// <para>With an <see cref="IBinaryLoss"/>, a one-output network takes <c>int</c> labels 0 and 1 in <c>Fit</c>, and its
/// training history and <see cref="Trainer{T}.EvaluateMetrics(MathNet.Numerics.LinearAlgebra.Matrix{T}, int[])"/> score
/// it as a binary classifier; a network with several outputs trained on a 0/1 target matrix is scored as a multi-label
/// classifier. An output is "on" when its probability is above 0.5: p &gt; 0.5 for a loss on probabilities, z &gt; 0 (that
/// is σ(z) &gt; 0.5) for a loss on logits.</para>
/// <para>Thread safety: as for <see cref="ILossFunction"/>.</para>
/// </remarks>
public interface IBinaryLoss : ILossFunction
{
    /// <summary>Whether the loss reads the outputs as logits z (the probability is σ(z) = 1 / (1 + e⁻ᶻ)) rather than as
    /// probabilities.</summary>
    bool TakesLogits { get; }
}
