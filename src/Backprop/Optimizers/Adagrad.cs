using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>
/// Adagrad: per-value step sizes that shrink with the sum of all squared gradients seen so far.
/// </summary>
/// <remarks>
/// <para>As PyTorch's <c>torch.optim.Adagrad</c>. For update t = 1, 2, … of a parameter (the sum G starts at the
/// initial accumulator value, 0 by default): with weight decay λ, g ← g + λ·w (coupled L2); the step size is
/// ηₜ = η / (1 + (t − 1)·κ) with learning-rate decay κ (0 by default); G ← G + g²; w ← w − ηₜ·g / (√G + ε).</para>
/// <para>J. Duchi, E. Hazan and Y. Singer, "Adaptive Subgradient Methods for Online Learning and Stochastic
/// Optimization", JMLR 12 (2011) 2121–2159. Typical η: 1e-2 (1e-2 to 1e-1), ε = 1e-10.</para>
/// <para>State: slot "sum" (G) per parameter, and the parameter's update count t.</para>
/// <para>Thread safety: not thread-safe: it keeps per-parameter state (see <see cref="Optimizer"/>), so give each
/// trainer its own instance and never share one between trainers that run at once. The trainer may split one update
/// across its worker threads internally; that asks nothing of the caller.</para>
/// </remarks>
public sealed class Adagrad : Optimizer, ISerializableComponent
{
    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">η, a finite number greater than 0; 1e-2 by default.</param>
    /// <param name="epsilon">ε, added to √G; a finite number greater than 0; 1e-10 by default.</param>
    /// <param name="initialAccumulatorValue">The value every element of G starts at; a finite number ≥ 0; 0 by default.</param>
    /// <param name="learningRateDecay">κ, a finite number ≥ 0; 0 (none) by default.</param>
    /// <param name="weightDecay">λ, the coupled L2 weight decay, a finite number ≥ 0; 0 (none) by default.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public Adagrad(double learningRate = 1e-2, double epsilon = 1e-10, double initialAccumulatorValue = 0, double learningRateDecay = 0, double weightDecay = 0)
        : base(learningRate, "sum")
    {
        Guard.PositiveFinite(epsilon, nameof(epsilon));
        HyperParameters.NonNegativeFinite(initialAccumulatorValue, nameof(initialAccumulatorValue));
        HyperParameters.NonNegativeFinite(learningRateDecay, nameof(learningRateDecay));
        HyperParameters.NonNegativeFinite(weightDecay, nameof(weightDecay));
        Epsilon = epsilon;
        InitialAccumulatorValue = initialAccumulatorValue;
        LearningRateDecay = learningRateDecay;
        WeightDecay = weightDecay;
    }

    /// <summary>ε, the term added to √G in the denominator.</summary>
    public double Epsilon { get; }

    /// <summary>The value every element of the sum of squared gradients G starts at.</summary>
    public double InitialAccumulatorValue { get; }

    /// <summary>κ, the learning-rate decay: update t uses η / (1 + (t − 1)·κ).</summary>
    public double LearningRateDecay { get; }

    /// <summary>λ, the coupled L2 weight decay added to the gradient as λ·w; 0 for none.</summary>
    public double WeightDecay { get; }

    /// <summary>The name checkpoints store this optimizer under: "adagrad".</summary>
    string ISerializableComponent.TypeName => "adagrad";

    /// <summary>Writes the learning rate and the hyper-parameters (epsilon, initial_accumulator_value, learning_rate_decay, weight_decay).</summary>
    /// <param name="settings">Receives the settings.</param>
    void ISerializableComponent.WriteSettings(ComponentSettings settings) =>
        settings.Set("learning_rate", LearningRate)
            .Set("epsilon", Epsilon)
            .Set("initial_accumulator_value", InitialAccumulatorValue)
            .Set("learning_rate_decay", LearningRateDecay)
            .Set("weight_decay", WeightDecay);

    /// <summary>Describes the optimizer.</summary>
    /// <returns>For example "Adagrad(η=0.01, ε=1E-10)".</returns>
    public override string ToString() => FormattableString.Invariant(
        $"Adagrad(η={LearningRate}, ε={Epsilon}{(InitialAccumulatorValue > 0 ? $", G0={InitialAccumulatorValue}" : "")}{(LearningRateDecay > 0 ? $", κ={LearningRateDecay}" : "")}{(WeightDecay > 0 ? $", λ={WeightDecay}" : "")})");

    /// <inheritdoc />
    protected override bool IsElementwise => true;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void OnUpdate<T>(Span<T> values, ReadOnlySpan<T> gradients, OptimizerState<T> state)
    {
        int n = values.Length;
        Span<T> scratch = GetScratch<T>(2 * n);
        Span<T> decayed = scratch[..n], d = scratch[n..];
        Span<T> sum = state.Slot(0);
        if (state.Step == 1 && InitialAccumulatorValue != 0)
        {
            sum.Fill(T.CreateChecked(InitialAccumulatorValue));
        }

        ReadOnlySpan<T> g = gradients;
        if (WeightDecay != 0)
        {
            // g ← g + λ·w
            TensorPrimitives.MultiplyAdd(values, T.CreateChecked(WeightDecay), gradients, decayed);
            g = decayed;
        }

        // G ← G + g²
        TensorPrimitives.MultiplyAdd(g, g, sum, sum);

        // w ← w − ηₜ·g / (√G + ε)
        TensorPrimitives.Sqrt(sum, d);
        TensorPrimitives.Add(d, T.CreateChecked(Epsilon), d);
        TensorPrimitives.Divide(g, d, d);
        double stepSize = LearningRate / (1 + (state.Step - 1) * LearningRateDecay);
        TensorPrimitives.MultiplyAdd(d, T.CreateChecked(-stepSize), values, values);
    }
}
