using System.Globalization;

namespace Backprop;

/// <summary>Step decay: the learning rate is multiplied by γ every <see cref="StepSize"/> epochs.</summary>
/// <remarks>
/// <para>ηₑ = η₀·γ^⌊(e − 1) / s⌋ for epoch e = 1, 2, …: epochs 1…s use η₀, epochs s + 1…2s use η₀·γ, and so on
/// (PyTorch's <c>StepLR</c>).</para>
/// <para>Typical: γ = 0.1 every 30 epochs (the ResNet recipe), or γ = 0.5 every 10.</para>
/// <para>Thread safety: immutable: the rate depends only on the epoch and the base rate, so one instance may be shared
/// by any number of training runs and threads.</para>
/// </remarks>
public sealed class StepSchedule : ILearningRateSchedule
{
    /// <summary>Creates the schedule.</summary>
    /// <param name="stepSize">s, the number of epochs between decays; at least 1.</param>
    /// <param name="gamma">γ, the factor applied at each decay; a finite number greater than 0; 0.1 by default.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="stepSize"/> is less than 1, or <paramref name="gamma"/> is not finite and positive.</exception>
    public StepSchedule(int stepSize, double gamma = 0.1)
    {
        HyperParameters.AtLeast(stepSize, 1, nameof(stepSize));
        Guard.PositiveFinite(gamma, nameof(gamma));
        StepSize = stepSize;
        Gamma = gamma;
    }

    /// <summary>s, the number of epochs between decays.</summary>
    public int StepSize { get; }

    /// <summary>γ, the factor applied at each decay.</summary>
    public double Gamma { get; }

    /// <inheritdoc />
    public double LearningRateFor(int epoch, double baseLearningRate)
    {
        ScheduleChecks.Arguments(epoch, baseLearningRate);
        return baseLearningRate * Math.Pow(Gamma, (epoch - 1) / StepSize);
    }

    /// <summary>Describes the schedule.</summary>
    /// <returns>For example "Step(every 10 epochs, γ=0.5)".</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Step(every {StepSize} epochs, γ={Gamma})");
}
