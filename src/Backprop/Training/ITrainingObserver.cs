namespace Backprop;

/// <summary>
/// Receives notifications while <c>Fit</c> trains: implement the members you need, the others do nothing.
/// </summary>
/// <remarks>Called on the training thread, between batches; a slow observer slows training.</remarks>
public interface ITrainingObserver
{
    /// <summary>Called before the first batch of an epoch.</summary>
    /// <param name="epoch">The 1-based epoch.</param>
    void OnEpochBegin(int epoch)
    {
    }

    /// <summary>Called after each batch's update.</summary>
    /// <param name="epoch">The 1-based epoch.</param>
    /// <param name="batch">The 1-based batch within the epoch.</param>
    /// <param name="loss">The batch's loss, computed before the update.</param>
    void OnBatchEnd(int epoch, int batch, double loss)
    {
    }

    /// <summary>Called after the last batch of an epoch.</summary>
    /// <param name="result">The epoch's loss and duration.</param>
    void OnEpochEnd(EpochResult result)
    {
    }
}

/// <summary>The summary of one training epoch.</summary>
/// <param name="Epoch">The 1-based epoch.</param>
/// <param name="Loss">The epoch's training loss, as recorded in <see cref="TrainingHistory.Loss"/>.</param>
/// <param name="Duration">The wall-clock time the epoch took, observers' time included.</param>
public sealed record EpochResult(int Epoch, double Loss, TimeSpan Duration);
