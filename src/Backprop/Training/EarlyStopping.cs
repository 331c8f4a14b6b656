using System.Globalization;

namespace Backprop;

/// <summary>
/// Stops training when the monitored loss (the validation loss when there is validation data, else the training loss)
/// has not improved by more than <see cref="MinDelta"/> for <see cref="Patience"/> epochs, as Keras's EarlyStopping.
/// </summary>
/// <remarks>Thread safety: immutable: <c>Fit</c> keeps the best loss and weights itself, so one instance may be shared
/// by any number of runs and threads.</remarks>
public sealed class EarlyStopping
{
    /// <summary>Epochs without improvement to wait before stopping; at least 1. 5 by default.</summary>
    public int Patience { get; init; } = 5;

    /// <summary>The least decrease of the monitored loss that counts as an improvement; at least 0. 0 by default.</summary>
    public double MinDelta { get; init; }

    /// <summary>Whether to put back the weights of the best epoch when training ends. True by default.</summary>
    public bool RestoreBestWeights { get; init; } = true;

    internal void Validate()
    {
        if (Patience < 1)
        {
            throw new ArgumentOutOfRangeException("options", Patience, $"options.EarlyStopping.Patience must be at least 1, but it is {Patience}.");
        }

        if (!(MinDelta >= 0) || !double.IsFinite(MinDelta))
        {
            throw new ArgumentOutOfRangeException("options", MinDelta,
                string.Create(CultureInfo.InvariantCulture, $"options.EarlyStopping.MinDelta must be a finite number of at least 0, but it is {MinDelta}."));
        }
    }
}
