using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>
/// Stochastic gradient descent, optionally with momentum or Nesterov momentum and L2 weight decay.
/// </summary>
/// <remarks>
/// <para>As PyTorch's <c>torch.optim.SGD</c> (without dampening). With weight decay λ the gradient is first
/// g ← g + λ·w (coupled, L2 regularisation; for plain SGD this equals the decoupled form w ← (1 − η·λ)·w − η·g).
/// Without momentum: w ← w − η·g. With momentum μ (the velocity starts at 0): v ← μ·v + g, then w ← w − η·v; with
/// Nesterov momentum, w ← w − η·(g + μ·v).</para>
/// <para>Polyak, "Some methods of speeding up the convergence of iteration methods" (1964); Sutskever, Martens, Dahl and
/// Hinton, "On the importance of initialization and momentum in deep learning", ICML 2013. Typical η: 0.01–0.1,
/// μ = 0.9, λ = 1e-4 to 5e-4.</para>
/// <para>State: with momentum, one slot "momentum_buffer" (v) per parameter; none without.</para>
/// <para>Thread safety: not thread-safe: it keeps per-parameter state (see <see cref="Optimizer"/>), so give each
/// trainer its own instance and never share one between trainers that run at once. The trainer may split one update
/// across its worker threads internally; that asks nothing of the caller.</para>
/// </remarks>
public sealed class Sgd : Optimizer, ISerializableComponent
{
    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">η, a finite number greater than 0.</param>
    /// <param name="momentum">μ in [0, 1); 0 (plain SGD) by default.</param>
    /// <param name="nesterov">Whether to use Nesterov momentum; needs <paramref name="momentum"/> &gt; 0.</param>
    /// <param name="weightDecay">λ, a finite number ≥ 0; 0 (none) by default.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is not finite and positive, <paramref name="momentum"/> is outside [0, 1), or <paramref name="weightDecay"/> is negative or not finite.</exception>
    /// <exception cref="ArgumentException"><paramref name="nesterov"/> is set while <paramref name="momentum"/> is 0.</exception>
    public Sgd(double learningRate, double momentum = 0, bool nesterov = false, double weightDecay = 0)
        : base(learningRate, momentum > 0 ? ["momentum_buffer"] : [])
    {
        HyperParameters.ZeroToOneExclusive(momentum, nameof(momentum));
        if (nesterov && momentum == 0)
        {
            throw new ArgumentException("Nesterov momentum needs momentum > 0, but momentum is 0.", nameof(nesterov));
        }

        HyperParameters.NonNegativeFinite(weightDecay, nameof(weightDecay));
        Momentum = momentum;
        Nesterov = nesterov;
        WeightDecay = weightDecay;
    }

    /// <summary>The momentum μ; 0 for plain SGD.</summary>
    public double Momentum { get; }

    /// <summary>Whether the momentum is Nesterov's.</summary>
    public bool Nesterov { get; }

    /// <summary>The L2 weight decay λ, added to the gradient as λ·w; 0 for none.</summary>
    public double WeightDecay { get; }

    /// <summary>The name checkpoints store this optimizer under: "sgd".</summary>
    string ISerializableComponent.TypeName => "sgd";

    /// <summary>Writes the learning rate and the hyper-parameters (momentum, nesterov, weight_decay).</summary>
    /// <param name="settings">Receives the settings.</param>
    void ISerializableComponent.WriteSettings(ComponentSettings settings) =>
        settings.Set("learning_rate", LearningRate)
            .Set("momentum", Momentum)
            .Set("nesterov", Nesterov)
            .Set("weight_decay", WeightDecay);

    /// <summary>Describes the optimizer.</summary>
    /// <returns>For example "SGD(η=0.1, μ=0.9, nesterov)".</returns>
    public override string ToString() => FormattableString.Invariant(
        $"SGD(η={LearningRate}{(Momentum > 0 ? $", μ={Momentum}" : "")}{(Nesterov ? ", nesterov" : "")}{(WeightDecay > 0 ? $", λ={WeightDecay}" : "")})");

    /// <inheritdoc />
    protected override bool IsElementwise => true;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void OnUpdate<T>(Span<T> values, ReadOnlySpan<T> gradients, OptimizerState<T> state)
    {
        Span<T> w = values;
        T eta = T.CreateChecked(LearningRate);
        T lambda = T.CreateChecked(WeightDecay);
        if (Momentum == 0)
        {
            if (WeightDecay != 0)
            {
                // w ← w − η·(g + λ·w) = (1 − η·λ)·w − η·g
                SpanKernels.Multiply(w, T.One - eta * lambda, w);
            }

            // w ← w − η·g
            SpanKernels.MultiplyAdd(gradients, -eta, w, w);
            return;
        }

        T mu = T.CreateChecked(Momentum);
        Span<T> v = state.Slot(0);
        // v ← μ·v + g (+ λ·w)
        SpanKernels.MultiplyAdd(v, mu, gradients, v);
        if (WeightDecay != 0)
        {
            SpanKernels.MultiplyAdd(w, lambda, v, v);
        }

        if (Nesterov)
        {
            // w ← w − η·(g + λ·w + μ·v) = (1 − η·λ)·w − η·g − η·μ·v
            if (WeightDecay != 0)
            {
                SpanKernels.Multiply(w, T.One - eta * lambda, w);
            }

            SpanKernels.MultiplyAdd(gradients, -eta, w, w);
            SpanKernels.MultiplyAdd(v, -eta * mu, w, w);
        }
        else
        {
            // w ← w − η·v
            SpanKernels.MultiplyAdd(v, -eta, w, w);
        }
    }
}
