using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>
/// Resilient backpropagation, iRPROP⁻: every weight has its own step size, which grows while the sign of its gradient
/// stays the same and shrinks when it flips; only the sign of the gradient is used, never its magnitude.
/// </summary>
/// <remarks>
/// <para>For every value, with previous gradient g′ (0 before the first update) and step size Δ (Δ₀ before the first
/// update): if g′·g &gt; 0, Δ ← min(Δ·η⁺, Δmax); if g′·g &lt; 0, Δ ← max(Δ·η⁻, Δmin) and g ← 0 (no step now, and no
/// reaction at the next update); otherwise Δ is unchanged. Then w ← w − sign(g)·Δ and g′ ← g. This is PyTorch's
/// <c>torch.optim.Rprop</c>.</para>
/// <para>RPROP is a full-batch method: the sign of a mini-batch gradient is noisy, and its step-size adaptation then
/// breaks down. Train with the batch size equal to the data set's size.</para>
/// <para><see cref="IOptimizer.LearningRate"/> is the initial step size Δ₀, read when a parameter is first updated;
/// after that the step sizes adapt on their own, so changing the learning rate (by a schedule, for example) has no
/// effect on parameters already updated.</para>
/// <para>M. Riedmiller and H. Braun, "A direct adaptive method for faster backpropagation learning: the RPROP
/// algorithm", IEEE ICNN 1993; C. Igel and M. Hüsken, "Improving the Rprop Learning Algorithm", NC 2000 (iRPROP⁻).
/// Typical Δ₀: 0.1 (0.01 to 0.1), η⁺ = 1.2, η⁻ = 0.5, Δmin = 1e-6, Δmax = 50.</para>
/// <para>State per parameter: slots "prev" (g′) and "step_size" (Δ).</para>
/// <para>Thread safety: not thread-safe: it keeps per-parameter state (see <see cref="Optimizer"/>), so give each
/// trainer its own instance and never share one between trainers that run at once. The trainer may split one update
/// across its worker threads internally; that asks nothing of the caller.</para>
/// </remarks>
public sealed class Rprop : Optimizer, ISerializableComponent
{
    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">Δ₀, the initial step size of every value; a finite number greater than 0; 0.1 by default.</param>
    /// <param name="increaseFactor">η⁺, greater than 1; 1.2 by default.</param>
    /// <param name="decreaseFactor">η⁻, in (0, 1); 0.5 by default.</param>
    /// <param name="minStepSize">Δmin, a finite number greater than 0; 1e-6 by default.</param>
    /// <param name="maxStepSize">Δmax, a finite number ≥ Δmin; 50 by default.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public Rprop(double learningRate = 0.1, double increaseFactor = 1.2, double decreaseFactor = 0.5, double minStepSize = 1e-6, double maxStepSize = 50)
        : base(learningRate, "prev", "step_size")
    {
        if (!(increaseFactor > 1) || !double.IsFinite(increaseFactor))
        {
            throw new ArgumentOutOfRangeException(nameof(increaseFactor), increaseFactor,
                string.Create(CultureInfo.InvariantCulture, $"increaseFactor must be a finite number greater than 1, but it is {increaseFactor}."));
        }

        HyperParameters.OpenUnitInterval(decreaseFactor, nameof(decreaseFactor));
        Guard.PositiveFinite(minStepSize, nameof(minStepSize));
        Guard.PositiveFinite(maxStepSize, nameof(maxStepSize));
        if (maxStepSize < minStepSize)
        {
            throw new ArgumentOutOfRangeException(nameof(maxStepSize), maxStepSize,
                string.Create(CultureInfo.InvariantCulture, $"maxStepSize must be at least minStepSize ({minStepSize}), but it is {maxStepSize}."));
        }

        IncreaseFactor = increaseFactor;
        DecreaseFactor = decreaseFactor;
        MinStepSize = minStepSize;
        MaxStepSize = maxStepSize;
    }

    /// <summary>η⁺, the factor a step size grows by while the gradient keeps its sign.</summary>
    public double IncreaseFactor { get; }

    /// <summary>η⁻, the factor a step size shrinks by when the gradient changes sign.</summary>
    public double DecreaseFactor { get; }

    /// <summary>Δmin, the smallest step size.</summary>
    public double MinStepSize { get; }

    /// <summary>Δmax, the largest step size.</summary>
    public double MaxStepSize { get; }

    /// <summary>The name checkpoints store this optimizer under: "rprop".</summary>
    string ISerializableComponent.TypeName => "rprop";

    /// <summary>Writes the learning rate and the hyper-parameters (increase_factor, decrease_factor, min_step_size, max_step_size).</summary>
    /// <param name="settings">Receives the settings.</param>
    void ISerializableComponent.WriteSettings(ComponentSettings settings) =>
        settings.Set("learning_rate", LearningRate)
            .Set("increase_factor", IncreaseFactor)
            .Set("decrease_factor", DecreaseFactor)
            .Set("min_step_size", MinStepSize)
            .Set("max_step_size", MaxStepSize);

    /// <summary>Describes the optimizer.</summary>
    /// <returns>For example "iRPROP-(Δ0=0.1, η+=1.2, η-=0.5, Δ∈[1E-06, 50])".</returns>
    public override string ToString() => FormattableString.Invariant(
        $"iRPROP-(Δ0={LearningRate}, η+={IncreaseFactor}, η-={DecreaseFactor}, Δ∈[{MinStepSize}, {MaxStepSize}])");

    /// <inheritdoc />
    protected override bool IsElementwise => true;

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override void OnUpdate<T>(Span<T> values, ReadOnlySpan<T> gradients, OptimizerState<T> state)
    {
        Span<T> previous = state.Slot(0), steps = state.Slot(1);
        if (state.Step == 1)
        {
            steps.Fill(T.CreateChecked(LearningRate));
        }

        T increase = T.CreateChecked(IncreaseFactor), decrease = T.CreateChecked(DecreaseFactor);
        T min = T.CreateChecked(MinStepSize), max = T.CreateChecked(MaxStepSize);
        for (int i = 0; i < values.Length; i++)
        {
            T g = gradients[i];
            // The signs, not the product, so that two tiny gradients cannot underflow to "no sign".
            int agreement = SignOf(g) * SignOf(previous[i]);
            if (agreement > 0)
            {
                steps[i] = T.Min(steps[i] * increase, max);
            }
            else if (agreement < 0)
            {
                steps[i] = T.Max(steps[i] * decrease, min);
                g = T.Zero;
            }

            // w ← w − sign(g)·Δ
            if (g > T.Zero)
            {
                values[i] -= steps[i];
            }
            else if (g < T.Zero)
            {
                values[i] += steps[i];
            }

            previous[i] = g;
        }
    }

    private static int SignOf<T>(T x)
        where T : IFloatingPointIeee754<T> => x > T.Zero ? 1 : x < T.Zero ? -1 : 0;
}
