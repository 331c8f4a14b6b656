namespace Backprop;

/// <summary>The same learning rate for every epoch: ηₑ = η₀.</summary>
/// <remarks>Thread safety: immutable: the rate depends only on the epoch and the base rate, so one instance may be
/// shared by any number of training runs and threads.</remarks>
public sealed class ConstantSchedule : ILearningRateSchedule
{
    /// <inheritdoc />
    public double LearningRateFor(int epoch, double baseLearningRate)
    {
        ScheduleChecks.Arguments(epoch, baseLearningRate);
        return baseLearningRate;
    }

    /// <summary>Describes the schedule.</summary>
    /// <returns>"Constant".</returns>
    public override string ToString() => "Constant";
}
