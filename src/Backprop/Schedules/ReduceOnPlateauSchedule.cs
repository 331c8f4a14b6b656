using System.Globalization;

namespace Backprop;

/// <summary>Reduces the learning rate by a factor when the monitored loss has stopped improving for a number of epochs
/// (mode "min": lower is better).</summary>
/// <remarks>
/// <para>As PyTorch's <c>ReduceLROnPlateau</c> in mode "min" with an absolute threshold. The schedule starts with
/// best = +∞, no bad epochs, no cooldown and no reductions. At the end of every epoch, with loss L:</para>
/// <list type="number">
/// <item>if L &lt; best − δ (δ = <see cref="MinDelta"/>), the loss improved: best ← L and the bad-epoch count is reset to 0;
/// otherwise the bad-epoch count grows by 1;</item>
/// <item>during a cooldown, the cooldown shrinks by 1 and the bad-epoch count is reset to 0;</item>
/// <item>if the bad-epoch count exceeds <see cref="Patience"/>, the rate is reduced (reductions grows by 1), the cooldown
/// is set to <see cref="Cooldown"/> and the bad-epoch count is reset to 0.</item>
/// </list>
/// <para>So with patience p the rate is cut at the end of the (p + 1)-th consecutive epoch without improvement, and
/// takes effect from the next epoch. After n reductions, ηₑ = max(η₀·factorⁿ, min(η_min, η₀)).</para>
/// <para>Thread safety: not thread-safe, and stateful: <see cref="OnEpochEnd"/> changes the best loss, the bad-epoch
/// count, the cooldown and <see cref="Reductions"/>. Use a new instance for each training run, and never share one
/// between runs that train at once.</para>
/// </remarks>
public sealed class ReduceOnPlateauSchedule : ILearningRateSchedule
{
    private double _best = double.PositiveInfinity;
    private int _badEpochs;
    private int _cooldownLeft;

    /// <summary>Creates the schedule.</summary>
    /// <param name="factor">The factor each reduction multiplies the rate by, in (0, 1); 0.1 by default.</param>
    /// <param name="patience">The number of epochs without improvement tolerated before a reduction; ≥ 0; 10 by default.</param>
    /// <param name="minDelta">δ, how much lower than the best a loss must be to count as an improvement; a finite number ≥ 0; 1e-4 by default.</param>
    /// <param name="cooldown">The number of epochs after a reduction during which epochs without improvement are not counted; ≥ 0; 0 by default.</param>
    /// <param name="minLearningRate">η_min, the rate below which no reduction goes; a finite number ≥ 0; 0 by default.</param>
    /// <exception cref="ArgumentOutOfRangeException">An argument is outside its range.</exception>
    public ReduceOnPlateauSchedule(double factor = 0.1, int patience = 10, double minDelta = 1e-4, int cooldown = 0, double minLearningRate = 0)
    {
        HyperParameters.OpenUnitInterval(factor, nameof(factor));
        HyperParameters.AtLeast(patience, 0, nameof(patience));
        HyperParameters.NonNegativeFinite(minDelta, nameof(minDelta));
        HyperParameters.AtLeast(cooldown, 0, nameof(cooldown));
        HyperParameters.NonNegativeFinite(minLearningRate, nameof(minLearningRate));
        Factor = factor;
        Patience = patience;
        MinDelta = minDelta;
        Cooldown = cooldown;
        MinLearningRate = minLearningRate;
    }

    /// <summary>The factor each reduction multiplies the rate by.</summary>
    public double Factor { get; }

    /// <summary>The number of epochs without improvement tolerated before a reduction.</summary>
    public int Patience { get; }

    /// <summary>δ, the least decrease of the loss below the best that counts as an improvement.</summary>
    public double MinDelta { get; }

    /// <summary>The number of epochs after a reduction during which epochs without improvement are not counted.</summary>
    public int Cooldown { get; }

    /// <summary>η_min, the floor of the learning rate.</summary>
    public double MinLearningRate { get; }

    /// <summary>The number of reductions made so far.</summary>
    public int Reductions { get; private set; }

    /// <summary>The lowest loss reported so far; +∞ before the first report.</summary>
    public double BestLoss => _best;

    /// <inheritdoc />
    public double LearningRateFor(int epoch, double baseLearningRate)
    {
        ScheduleChecks.Arguments(epoch, baseLearningRate);
        return Math.Max(baseLearningRate * Math.Pow(Factor, Reductions), Math.Min(MinLearningRate, baseLearningRate));
    }

    /// <summary>Reports the loss at the end of an epoch, and decides whether to reduce the rate from the next epoch on.</summary>
    /// <param name="epoch">The 1-based number of the epoch that ended.</param>
    /// <param name="monitoredLoss">The epoch's loss; a finite number.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is less than 1, or <paramref name="monitoredLoss"/> is not finite.</exception>
    public void OnEpochEnd(int epoch, double monitoredLoss)
    {
        HyperParameters.AtLeast(epoch, 1, nameof(epoch));
        Guard.Finite(monitoredLoss, nameof(monitoredLoss));
        if (monitoredLoss < _best - MinDelta)
        {
            _best = monitoredLoss;
            _badEpochs = 0;
        }
        else
        {
            _badEpochs++;
        }

        if (_cooldownLeft > 0)
        {
            _cooldownLeft--;
            _badEpochs = 0;
        }

        if (_badEpochs > Patience)
        {
            Reductions++;
            _cooldownLeft = Cooldown;
            _badEpochs = 0;
        }
    }

    /// <summary>Describes the schedule.</summary>
    /// <returns>For example "ReduceOnPlateau(factor=0.1, patience=10, δ=0.0001, cooldown=0, η_min=0)".</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"ReduceOnPlateau(factor={Factor}, patience={Patience}, δ={MinDelta}, cooldown={Cooldown}, η_min={MinLearningRate})");
}
