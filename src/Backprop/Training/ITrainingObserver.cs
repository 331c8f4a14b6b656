namespace Backprop;

/// <summary>
/// Receives notifications while <c>Fit</c> trains, and may stop it: implement the members you need, the others do nothing.
/// </summary>
/// <remarks>
/// <para>A run calls <see cref="OnTrainBegin"/>, then for every epoch <see cref="OnEpochBegin"/>, <see cref="OnBatchBegin"/>
/// and <see cref="OnBatchEnd"/> around each batch, and <see cref="OnEpochEnd"/>, then <see cref="OnTrainEnd"/> when it
/// ends normally (not after an exception or a cancellation). Observers are called in the order of
/// <see cref="FitOptions.Observers"/>, followed by <see cref="FitOptions.EarlyStopping"/>.</para>
/// <para>To stop training, keep the <see cref="TrainingContext"/> given to <see cref="OnTrainBegin"/> and call its
/// <see cref="TrainingContext.StopTraining"/>: the run ends once the current epoch is over (<see cref="EarlyStopping"/>
/// works so).</para>
/// <para>A slow observer slows training: every call runs between two training steps.</para>
/// <para>Thread safety: <c>Fit</c> calls every member on its training thread (the caller's, or a thread-pool thread for
/// <c>FitAsync</c>), between two steps and never during one: an observer may read the weights and the optimizer state,
/// predict, or save the model. An instance given to several <c>Fit</c> calls that run at once is called from all their
/// threads, and must then synchronise itself.</para>
/// </remarks>
public interface ITrainingObserver
{
    /// <summary>Called once when a run begins, before its first epoch.</summary>
    /// <param name="context">The run: its epochs, its history, and <see cref="TrainingContext.StopTraining"/>; a
    /// <see cref="TrainingContext{T}"/> that also gives the trainer.</param>
    void OnTrainBegin(TrainingContext context)
    {
    }

    /// <summary>Called before the first batch of an epoch.</summary>
    /// <param name="epoch">The 1-based epoch.</param>
    void OnEpochBegin(int epoch)
    {
    }

    /// <summary>Called before each batch.</summary>
    /// <param name="epoch">The 1-based epoch.</param>
    /// <param name="batch">The 1-based batch within the epoch.</param>
    void OnBatchBegin(int epoch, int batch)
    {
    }

    /// <summary>Called after each batch's update.</summary>
    /// <param name="epoch">The 1-based epoch.</param>
    /// <param name="batch">The 1-based batch within the epoch.</param>
    /// <param name="loss">The batch's loss, computed before the update.</param>
    void OnBatchEnd(int epoch, int batch, double loss)
    {
    }

    /// <summary>Called after the last batch of an epoch and its validation.</summary>
    /// <param name="result">The epoch's losses, accuracies, learning rate and duration.</param>
    void OnEpochEnd(EpochResult result)
    {
    }

    /// <summary>Called once when a run ends normally, after its last epoch (the planned last one, or the one a stop
    /// request ended), before <c>Fit</c> returns.</summary>
    /// <param name="context">The run, as given to <see cref="OnTrainBegin"/>.</param>
    void OnTrainEnd(TrainingContext context)
    {
    }
}

/// <summary>The summary of one training epoch.</summary>
/// <remarks>Thread safety: immutable: safe to share between threads, for example with an <see cref="IProgress{T}"/>
/// handler that runs on another thread.</remarks>
/// <param name="Epoch">The 1-based epoch.</param>
/// <param name="Loss">The epoch's training loss, accumulated over its batches as the weights changed: for a mean loss
/// the batch losses weighted by batch size (the mean over all samples), for a sum loss their total.</param>
/// <param name="ValidationLoss">The loss on the validation data after the epoch, or null without validation data.</param>
/// <param name="Accuracy">The fraction of training samples classified correctly during the epoch (before each batch's
/// update), or null unless the targets are classes: the arg-max class for several classes; the class at probability 0.5
/// for a binary classifier (one output with an <see cref="IBinaryLoss"/> or a sigmoid, 0/1 targets); every label right
/// (the exact-match ratio) for a multi-label classifier (several outputs with an <see cref="IBinaryLoss"/>, a 0/1 target matrix).</param>
/// <param name="ValidationAccuracy">The fraction of validation samples classified correctly after the epoch, scored as
/// <paramref name="Accuracy"/>, or null.</param>
/// <param name="LearningRate">The optimizer's learning rate during the epoch.</param>
/// <param name="Duration">The wall-clock time the epoch took, validation and observers included.</param>
public sealed record EpochResult(int Epoch, double Loss, double? ValidationLoss, double? Accuracy, double? ValidationAccuracy, double LearningRate, TimeSpan Duration)
{
    /// <summary>For a multi-label classifier, the fraction of single labels (sample × output) predicted correctly during
    /// the epoch, the Hamming accuracy (1 − Hamming loss); otherwise null.</summary>
    public double? HammingAccuracy { get; init; }

    /// <summary>For a multi-label classifier with validation data, the Hamming accuracy on it after the epoch; otherwise null.</summary>
    public double? ValidationHammingAccuracy { get; init; }

    /// <summary>The value of one of the recorded metrics.</summary>
    /// <param name="metric">The metric.</param>
    /// <returns>Its value for this epoch, or null when the epoch does not record it.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="metric"/> is not a <see cref="TrainingMetric"/>.</exception>
    public double? MetricValue(TrainingMetric metric) => metric switch
    {
        TrainingMetric.Loss => Loss,
        TrainingMetric.ValidationLoss => ValidationLoss,
        TrainingMetric.Accuracy => Accuracy,
        TrainingMetric.ValidationAccuracy => ValidationAccuracy,
        TrainingMetric.HammingAccuracy => HammingAccuracy,
        TrainingMetric.ValidationHammingAccuracy => ValidationHammingAccuracy,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, $"metric must be a TrainingMetric, but it is {(int)metric}."),
    };
}
