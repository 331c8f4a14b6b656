using System.Globalization;

namespace Backprop;

/// <summary>What happened during <c>Fit</c>: every epoch's losses, accuracies and learning rate, and how it ended.</summary>
/// <remarks>Thread safety: <c>Fit</c> fills it on its training thread (observers may read it there, through
/// <see cref="TrainingContext.History"/>) and returns it complete; from then on it is only read, and may be read from any
/// number of threads at once.</remarks>
public sealed class TrainingHistory
{
    private readonly List<EpochResult> _epochs = [];

    /// <summary>The result of every completed epoch, in order.</summary>
    public IReadOnlyList<EpochResult> Epochs => _epochs;

    /// <summary>The training loss of each epoch (see <see cref="EpochResult.Loss"/>).</summary>
    public IReadOnlyList<double> Loss => _epochs.Select(e => e.Loss).ToArray();

    /// <summary>The validation loss of each epoch; empty without validation data.</summary>
    public IReadOnlyList<double> ValidationLoss => _epochs.Where(e => e.ValidationLoss.HasValue).Select(e => e.ValidationLoss!.Value).ToArray();

    /// <summary>The training accuracy of each epoch; empty unless the targets are classes (class labels, one-hot rows,
    /// 0/1 targets of a binary classifier, or a 0/1 target matrix of a multi-label one, where it is the exact-match ratio;
    /// see <see cref="EpochResult.Accuracy"/>).</summary>
    public IReadOnlyList<double> Accuracy => _epochs.Where(e => e.Accuracy.HasValue).Select(e => e.Accuracy!.Value).ToArray();

    /// <summary>The validation accuracy of each epoch; empty unless there is validation data and the targets are classes.</summary>
    public IReadOnlyList<double> ValidationAccuracy => _epochs.Where(e => e.ValidationAccuracy.HasValue).Select(e => e.ValidationAccuracy!.Value).ToArray();

    /// <summary>The training Hamming accuracy (the fraction of single labels right) of each epoch; empty unless the
    /// network is a multi-label classifier trained on a 0/1 target matrix.</summary>
    public IReadOnlyList<double> HammingAccuracy => _epochs.Where(e => e.HammingAccuracy.HasValue).Select(e => e.HammingAccuracy!.Value).ToArray();

    /// <summary>The validation Hamming accuracy of each epoch; empty unless there is validation data for a multi-label classifier.</summary>
    public IReadOnlyList<double> ValidationHammingAccuracy => _epochs.Where(e => e.ValidationHammingAccuracy.HasValue).Select(e => e.ValidationHammingAccuracy!.Value).ToArray();

    /// <summary>The number of completed epochs.</summary>
    public int EpochsCompleted => _epochs.Count;

    /// <summary>The 1-based epoch with the best monitored value when an <see cref="EarlyStopping"/> watched the run (0
    /// if no epoch improved on the start); otherwise null.</summary>
    public int? BestEpoch { get; internal set; }

    /// <summary>Whether an observer (such as <see cref="EarlyStopping"/>) stopped training before the last epoch, with
    /// <see cref="TrainingContext.StopTraining"/>.</summary>
    public bool StoppedEarly { get; internal set; }

    internal void Add(EpochResult result) => _epochs.Add(result);

    /// <summary>Summarises the history.</summary>
    /// <returns>For example "3 epochs, loss 0.693 → 0.120".</returns>
    public override string ToString() => _epochs.Count == 0
        ? "0 epochs"
        : FormattableString.Invariant($"{_epochs.Count} epochs, loss {_epochs[0].Loss:G4} → {_epochs[^1].Loss:G4}")
          + (StoppedEarly ? FormattableString.Invariant($", stopped early (best epoch {BestEpoch})") : "");
}

/// <summary>Thrown when training produces a loss or a gradient that is NaN or infinite. The weights are those before the
/// failing step: the last ones for which everything was finite.</summary>
/// <remarks>Thread safety: immutable: safe to read from any thread.</remarks>
public sealed class TrainingDivergedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="epoch">The 1-based epoch; 0 outside <c>Fit</c>.</param>
    /// <param name="batch">The 1-based batch within the epoch; 0 outside <c>Fit</c>.</param>
    /// <param name="layerIndex">The layer whose gradient is not finite, or −1 when the loss itself is not.</param>
    /// <param name="parameter">The parameter ("weights", "biases"), or "loss".</param>
    /// <param name="value">The first non-finite value.</param>
    public TrainingDivergedException(int epoch, int batch, int layerIndex, string parameter, double value)
        : base(string.Create(CultureInfo.InvariantCulture,
            $"Training diverged {(epoch > 0 ? $"in epoch {epoch}, batch {batch}" : "in a TrainBatch step")}: {(layerIndex < 0 ? $"the loss is {value}" : $"the gradient of layer {layerIndex}'s {parameter} contains {value}")}. The weights were left as they were before that step; lower the learning rate, clip gradients or check the data."))
    {
        Epoch = epoch;
        Batch = batch;
        LayerIndex = layerIndex;
        Parameter = parameter;
        Value = value;
    }

    /// <summary>The 1-based epoch; 0 outside <c>Fit</c>.</summary>
    public int Epoch { get; }

    /// <summary>The 1-based batch within the epoch; 0 outside <c>Fit</c>.</summary>
    public int Batch { get; }

    /// <summary>The layer whose gradient was not finite, or −1 when the loss was not.</summary>
    public int LayerIndex { get; }

    /// <summary>"weights", "biases" (or another parameter's name), or "loss".</summary>
    public string Parameter { get; }

    /// <summary>The first non-finite value: NaN or ±∞.</summary>
    public double Value { get; }
}
