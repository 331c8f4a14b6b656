using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>
/// RMSProp: divides the gradient by a running root mean square of recent gradients, optionally with momentum and
/// optionally centred.
/// </summary>
/// <remarks>
/// <para>As PyTorch's <c>torch.optim.RMSprop</c> (the running average s starts at 0). With weight decay λ the gradient
/// is first g ← g + λ·w (coupled L2). Then s ← α·s + (1 − α)·g²; the denominator is d = √s + ε, or, centred,
/// ḡ ← α·ḡ + (1 − α)·g and d = √(s − ḡ²) + ε. Without momentum: w ← w − η·g / d. With momentum μ (b starts at 0):
/// b ← μ·b + g / d, then w ← w − η·b.</para>
/// <para>G. Hinton, N. Srivastava and K. Swersky, "Neural Networks for Machine Learning", lecture 6e (Coursera, 2012);
/// the centred form from A. Graves, "Generating Sequences With Recurrent Neural Networks" (arXiv:1308.0850, 2013).
/// Typical η: 1e-3 (Hinton's suggestion; PyTorch's default is 1e-2), α = 0.99, ε = 1e-8.</para>
/// <para>State per parameter: slot "square_avg" (s); then "momentum_buffer" (b) when μ &gt; 0; then "grad_avg" (ḡ)
/// when centred.</para>
/// <para>Thread safety: not thread-safe: it keeps per-parameter state (see <see cref="Optimizer"/>), so give each
/// trainer its own instance and never share one between trainers that run at once. The trainer may split one update
/// across its worker threads internally; that asks nothing of the caller.</para>
/// </remarks>
public sealed class RmsProp : Optimizer, ISerializableComponent
{
    private readonly int _momentumSlot;
    private readonly int _averageSlot;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">η, a finite number greater than 0; 1e-2 (PyTorch's default) if not given.</param>
    /// <param name="alpha">α, the decay of the running average of g², in [0, 1); 0.99 by default.</param>
    /// <param name="epsilon">ε, added to the root mean square; a finite number greater than 0; 1e-8 by default.</param>
    /// <param name="momentum">μ in [0, 1); 0 (none) by default.</param>
    /// <param name="centered">Whether to divide by an estimate of the gradient's variance instead of its uncentred second moment.</param>
    /// <param name="weightDecay">λ, the coupled L2 weight decay, a finite number ≥ 0; 0 (none) by default.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public RmsProp(double learningRate = 1e-2, double alpha = 0.99, double epsilon = 1e-8, double momentum = 0, bool centered = false, double weightDecay = 0)
        : base(learningRate, SlotNamesFor(momentum, centered))
    {
        HyperParameters.ZeroToOneExclusive(alpha, nameof(alpha));
        Guard.PositiveFinite(epsilon, nameof(epsilon));
        HyperParameters.ZeroToOneExclusive(momentum, nameof(momentum));
        HyperParameters.NonNegativeFinite(weightDecay, nameof(weightDecay));
        Alpha = alpha;
        Epsilon = epsilon;
        Momentum = momentum;
        Centered = centered;
        WeightDecay = weightDecay;
        _momentumSlot = momentum > 0 ? 1 : -1;
        _averageSlot = centered ? (momentum > 0 ? 2 : 1) : -1;
    }

    /// <summary>α, the decay rate of the running average of the squared gradient.</summary>
    public double Alpha { get; }

    /// <summary>ε, the term added to the root mean square in the denominator.</summary>
    public double Epsilon { get; }

    /// <summary>μ, the momentum; 0 for none.</summary>
    public double Momentum { get; }

    /// <summary>Whether the second moment is centred by the running mean of the gradient.</summary>
    public bool Centered { get; }

    /// <summary>λ, the coupled L2 weight decay added to the gradient as λ·w; 0 for none.</summary>
    public double WeightDecay { get; }

    /// <summary>The name checkpoints store this optimizer under: "rmsprop".</summary>
    string ISerializableComponent.TypeName => "rmsprop";

    /// <summary>Writes the learning rate and the hyper-parameters (alpha, epsilon, momentum, centered, weight_decay).</summary>
    /// <param name="settings">Receives the settings.</param>
    void ISerializableComponent.WriteSettings(ComponentSettings settings) =>
        settings.Set("learning_rate", LearningRate)
            .Set("alpha", Alpha)
            .Set("epsilon", Epsilon)
            .Set("momentum", Momentum)
            .Set("centered", Centered)
            .Set("weight_decay", WeightDecay);

    /// <summary>Describes the optimizer.</summary>
    /// <returns>For example "RMSProp(η=0.01, α=0.99, ε=1E-08, μ=0.9)".</returns>
    public override string ToString() => FormattableString.Invariant(
        $"RMSProp(η={LearningRate}, α={Alpha}, ε={Epsilon}{(Momentum > 0 ? $", μ={Momentum}" : "")}{(Centered ? ", centered" : "")}{(WeightDecay > 0 ? $", λ={WeightDecay}" : "")})");

    /// <inheritdoc />
    protected override bool IsElementwise => true;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void OnUpdate<T>(Span<T> values, ReadOnlySpan<T> gradients, OptimizerState<T> state)
    {
        int n = values.Length;
        Span<T> scratch = GetScratch<T>(2 * n);
        Span<T> decayed = scratch[..n], d = scratch[n..];
        T alpha = T.CreateChecked(Alpha);
        ReadOnlySpan<T> g = gradients;
        if (WeightDecay != 0)
        {
            // g ← g + λ·w
            TensorPrimitives.MultiplyAdd(values, T.CreateChecked(WeightDecay), gradients, decayed);
            g = decayed;
        }

        // s ← α·s + (1 − α)·g²
        Span<T> s = state.Slot(0);
        TensorPrimitives.Multiply(s, alpha, s);
        TensorPrimitives.Multiply(g, g, d);
        TensorPrimitives.MultiplyAdd(d, T.One - alpha, s, s);

        if (Centered)
        {
            // ḡ ← α·ḡ + (1 − α)·g;  d ← √(s − ḡ²)
            Span<T> average = state.Slot(_averageSlot);
            TensorPrimitives.Multiply(average, alpha, average);
            TensorPrimitives.MultiplyAdd(g, T.One - alpha, average, average);
            TensorPrimitives.Multiply(average, average, d);
            TensorPrimitives.Subtract(s, d, d);
            TensorPrimitives.Sqrt(d, d);
        }
        else
        {
            // d ← √s
            TensorPrimitives.Sqrt(s, d);
        }

        // d ← g / (d + ε)
        TensorPrimitives.Add(d, T.CreateChecked(Epsilon), d);
        TensorPrimitives.Divide(g, d, d);

        T eta = T.CreateChecked(LearningRate);
        if (Momentum > 0)
        {
            // b ← μ·b + g / d;  w ← w − η·b
            Span<T> b = state.Slot(_momentumSlot);
            TensorPrimitives.MultiplyAdd(b, T.CreateChecked(Momentum), d, b);
            TensorPrimitives.MultiplyAdd(b, -eta, values, values);
        }
        else
        {
            // w ← w − η·g / d
            TensorPrimitives.MultiplyAdd(d, -eta, values, values);
        }
    }

    private static string[] SlotNamesFor(double momentum, bool centered) =>
        (momentum > 0, centered) switch
        {
            (false, false) => ["square_avg"],
            (true, false) => ["square_avg", "momentum_buffer"],
            (false, true) => ["square_avg", "grad_avg"],
            (true, true) => ["square_avg", "momentum_buffer", "grad_avg"],
        };
}
