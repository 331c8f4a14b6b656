namespace Backprop;

/// <summary>What happened during <c>Fit</c>: the training loss of every epoch.</summary>
public sealed class TrainingHistory
{
    private readonly List<double> _loss = [];

    /// <summary>The training loss of each completed epoch, accumulated over its batches as the weights changed: for a mean loss the batch losses weighted by batch size (the mean over all samples), for a sum loss their total.</summary>
    public IReadOnlyList<double> Loss => _loss;

    /// <summary>The number of completed epochs.</summary>
    public int EpochsCompleted => _loss.Count;

    internal void AddEpoch(double loss) => _loss.Add(loss);

    /// <summary>Summarises the history.</summary>
    /// <returns>For example "3 epochs, loss 0.693 → 0.120".</returns>
    public override string ToString() => _loss.Count == 0
        ? "0 epochs"
        : FormattableString.Invariant($"{_loss.Count} epochs, loss {_loss[0]:G4} → {_loss[^1]:G4}");
}

/// <summary>Thrown when training produces a loss that is NaN or infinite; the weights are those before the failing step.</summary>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="epoch">The 1-based epoch.</param>
    /// <param name="batch">The 1-based batch within the epoch.</param>
    /// <param name="loss">The non-finite loss.</param>
    public TrainingDivergedException(int epoch, int batch, double loss)
        : base(FormattableString.Invariant(
            $"Training diverged: the loss of epoch {epoch}, batch {batch} is {loss}. The weights were left as they were before that step; lower the learning rate or check the data."))
    {
        Epoch = epoch;
        Batch = batch;
        LossValue = loss;
    }

    /// <summary>The 1-based epoch in which the loss stopped being finite.</summary>
    public int Epoch { get; }

    /// <summary>The 1-based batch within that epoch.</summary>
    public int Batch { get; }

    /// <summary>The loss value: NaN or ±∞.</summary>
    public double LossValue { get; }
}
