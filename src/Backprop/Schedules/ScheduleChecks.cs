namespace Backprop;

/// <summary>The argument checks every <see cref="ILearningRateSchedule.LearningRateFor"/> makes.</summary>
internal static class ScheduleChecks
{
    public static void Arguments(int epoch, double baseLearningRate)
    {
        if (epoch < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(epoch), epoch, $"epoch must be at least 1 (epochs are numbered from 1), but it is {epoch}.");
        }

        Guard.PositiveFinite(baseLearningRate, nameof(baseLearningRate));
    }
}
