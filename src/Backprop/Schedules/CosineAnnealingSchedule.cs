using System.Globalization;

namespace Backprop;

/// <summary>Cosine annealing from the base learning rate down to a minimum over <see cref="Period"/> epochs, after an
/// optional linear warm-up.</summary>
/// <remarks>
/// <para>With W warm-up epochs, period T and minimum η_min, for epoch e = 1, 2, …:</para>
/// <list type="bullet">
/// <item>warm-up, e ≤ W: ηₑ = η₀·e / W (rising linearly to η₀ at epoch W);</item>
/// <item>annealing, with k = e − W − 1 (0 in the first epoch after the warm-up): ηₑ = η_min + (η₀ − η_min)·(1 + cos(π·k / T)) / 2
/// for k &lt; T, which starts at η₀ and falls towards η_min (PyTorch's <c>CosineAnnealingLR</c>);</item>
/// <item>after the period, k ≥ T: ηₑ = η_min (no restart).</item>
/// </list>
/// <para>Set T to the number of epochs after the warm-up, so that the last epoch trains with a small rate just above
/// η_min. With η_min = 0, an epoch past the period would get the rate 0, which optimizers reject.</para>
/// <para>I. Loshchilov and F. Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts", ICLR 2017; the warm-up
/// from P. Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour" (2017).</para>
/// <para>Thread safety: immutable: the rate depends only on the epoch and the base rate, so one instance may be shared
/// by any number of training runs and threads.</para>
/// </remarks>
public sealed class CosineAnnealingSchedule : ILearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="period">T, the number of epochs of the cosine's fall; at least 1.</param>
    /// <param name="minLearningRate">η_min, the rate reached at the end of the period; a finite number ≥ 0; 0 by default.</param>
    /// <param name="warmupEpochs">W, the number of linear warm-up epochs before the fall; ≥ 0; 0 by default.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="period"/> is less than 1, <paramref name="minLearningRate"/> is negative or not finite, or <paramref name="warmupEpochs"/> is negative.</exception>
    public CosineAnnealingSchedule(int period, double minLearningRate = 0, int warmupEpochs = 0)
    {
        HyperParameters.AtLeast(period, 1, nameof(period));
        HyperParameters.NonNegativeFinite(minLearningRate, nameof(minLearningRate));
        HyperParameters.AtLeast(warmupEpochs, 0, nameof(warmupEpochs));
        Period = period;
        MinLearningRate = minLearningRate;
        WarmupEpochs = warmupEpochs;
    }

    /// <summary>T, the number of epochs of the cosine's fall (PyTorch's <c>T_max</c>).</summary>
    public int Period { get; }

    /// <summary>η_min, the rate at the end of the period and after it.</summary>
    public double MinLearningRate { get; }

    /// <summary>W, the number of linear warm-up epochs.</summary>
    public int WarmupEpochs { get; }

    /// <inheritdoc />
    public double LearningRateFor(int epoch, double baseLearningRate)
    {
        ScheduleChecks.Arguments(epoch, baseLearningRate);
        if (epoch <= WarmupEpochs)
        {
            return baseLearningRate * epoch / WarmupEpochs;
        }

        int k = epoch - WarmupEpochs - 1;
        if (k >= Period)
        {
            return MinLearningRate;
        }

        return MinLearningRate + (baseLearningRate - MinLearningRate) * (1 + Math.Cos(Math.PI * k / Period)) / 2;
    }

    /// <summary>Describes the schedule.</summary>
    /// <returns>For example "CosineAnnealing(T=50, η_min=0, warm-up 5)".</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"CosineAnnealing(T={Period}, η_min={MinLearningRate}{(WarmupEpochs > 0 ? $", warm-up {WarmupEpochs}" : "")})");
}
