using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>
/// AdamW: Adam with decoupled weight decay, which shrinks the weights directly instead of adding λ·w to the gradient.
/// </summary>
/// <remarks>
/// <para>For update t = 1, 2, … of a parameter (m and v start at 0), as PyTorch's <c>torch.optim.AdamW</c>:</para>
/// <para>w ← w − η·λ·w;  m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g²;  m̂ = m / (1 − β₁ᵗ);
/// v̂ = v / (1 − β₂ᵗ);  w ← w − η·m̂ / (√v̂ + ε).</para>
/// <para>The decay is scaled by the learning rate η (PyTorch's convention), so a schedule that lowers η lowers the
/// decay with it; the paper writes the same step as w ← w − ηₜ·(α·m̂ / (√v̂ + ε) + λ·w), with ηₜ the schedule multiplier.</para>
/// <para>I. Loshchilov and F. Hutter, "Decoupled Weight Decay Regularization", ICLR 2019 (arXiv:1711.05101).
/// Typical η: 1e-3 (1e-4 to 3e-3), λ: 1e-2 (PyTorch's default; up to 0.1), β₁ = 0.9, β₂ = 0.999, ε = 1e-8.</para>
/// <para>State: slots "exp_avg" (m) and "exp_avg_sq" (v) per parameter, and the parameter's update count t.</para>
/// <para>Thread safety: not thread-safe: it keeps per-parameter state (see <see cref="Optimizer"/>), so give each
/// trainer its own instance and never share one between trainers that run at once. The trainer may split one update
/// across its worker threads internally; that asks nothing of the caller.</para>
/// </remarks>
public sealed class AdamW : Optimizer, ISerializableComponent
{
    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">η, a finite number greater than 0; 1e-3 by default.</param>
    /// <param name="weightDecay">λ, the decoupled weight decay, a finite number ≥ 0; 1e-2 by default.</param>
    /// <param name="beta1">β₁, the decay of the first-moment average, in [0, 1); 0.9 by default.</param>
    /// <param name="beta2">β₂, the decay of the second-moment average, in [0, 1); 0.999 by default.</param>
    /// <param name="epsilon">ε, added to √v̂ for numerical stability; a finite number greater than 0; 1e-8 by default.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public AdamW(double learningRate = 1e-3, double weightDecay = 1e-2, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
        : base(learningRate, AdamKernel.SlotNames)
    {
        AdamKernel.Validate(beta1, beta2, epsilon, weightDecay);
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
    }

    /// <summary>β₁, the decay rate of the first-moment (mean) estimate.</summary>
    public double Beta1 { get; }

    /// <summary>β₂, the decay rate of the second-moment (uncentred variance) estimate.</summary>
    public double Beta2 { get; }

    /// <summary>ε, the term added to √v̂ in the denominator.</summary>
    public double Epsilon { get; }

    /// <summary>λ, the decoupled weight decay: every update first multiplies the weights by 1 − η·λ.</summary>
    public double WeightDecay { get; }

    /// <summary>The name checkpoints store this optimizer under: "adamw".</summary>
    string ISerializableComponent.TypeName => "adamw";

    /// <summary>Writes the learning rate and the hyper-parameters (beta1, beta2, epsilon, weight_decay).</summary>
    /// <param name="settings">Receives the settings.</param>
    void ISerializableComponent.WriteSettings(ComponentSettings settings) =>
        settings.Set("learning_rate", LearningRate)
            .Set("beta1", Beta1)
            .Set("beta2", Beta2)
            .Set("epsilon", Epsilon)
            .Set("weight_decay", WeightDecay);

    /// <summary>Describes the optimizer.</summary>
    /// <returns>For example "AdamW(η=0.001, λ=0.01, β1=0.9, β2=0.999, ε=1E-08)".</returns>
    public override string ToString() => FormattableString.Invariant(
        $"AdamW(η={LearningRate}, λ={WeightDecay}, β1={Beta1}, β2={Beta2}, ε={Epsilon})");

    /// <inheritdoc />
    protected override bool IsElementwise => true;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void OnUpdate<T>(Span<T> values, ReadOnlySpan<T> gradients, OptimizerState<T> state)
    {
        if (WeightDecay != 0)
        {
            // w ← w − η·λ·w
            SpanKernels.Multiply(values, T.CreateChecked(1 - LearningRate * WeightDecay), values);
        }

        AdamKernel.Step(values, gradients, state, GetScratch<T>(values.Length), LearningRate, Beta1, Beta2, Epsilon, l2: 0);
    }
}
