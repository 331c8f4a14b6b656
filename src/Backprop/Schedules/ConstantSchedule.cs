namespace Backprop;

/// <summary>The same learning rate for every epoch: ηₑ = η₀.</summary>
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
