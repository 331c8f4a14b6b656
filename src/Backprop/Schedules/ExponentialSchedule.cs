using System.Globalization;

namespace Backprop;

/// <summary>Exponential decay: the learning rate is multiplied by γ after every epoch.</summary>
/// <remarks>
/// <para>ηₑ = η₀·γ^(e − 1) for epoch e = 1, 2, … (PyTorch's <c>ExponentialLR</c>).</para>
/// <para>Typical γ: 0.9 to 0.99.</para>
/// <para>Thread safety: immutable: the rate depends only on the epoch and the base rate, so one instance may be shared
/// by any number of training runs and threads.</para>
/// </remarks>
public sealed class ExponentialSchedule : ILearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="gamma">γ, the factor per epoch; a finite number greater than 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gamma"/> is not finite and positive.</exception>
    public ExponentialSchedule(double gamma)
    {
        Guard.PositiveFinite(gamma, nameof(gamma));
        Gamma = gamma;
    }

    /// <summary>γ, the factor applied after every epoch.</summary>
    public double Gamma { get; }

    /// <inheritdoc />
    public double LearningRateFor(int epoch, double baseLearningRate)
    {
        ScheduleChecks.Arguments(epoch, baseLearningRate);
        return baseLearningRate * Math.Pow(Gamma, epoch - 1);
    }

    /// <summary>Describes the schedule.</summary>
    /// <returns>For example "Exponential(γ=0.95)".</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Exponential(γ={Gamma})");
}
