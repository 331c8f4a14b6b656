using System.Globalization;

namespace Backprop;

/// <summary>Settings of <see cref="Trainer{T}.Fit(MathNet.Numerics.LinearAlgebra.Matrix{T}, MathNet.Numerics.LinearAlgebra.Matrix{T}, FitOptions?, ValidationData{T}?, CancellationToken)"/>.</summary>
public sealed class FitOptions
{
    /// <summary>The number of passes over the training data; at least 1. 10 by default.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>The number of samples per mini-batch (the last batch of an epoch may be smaller); at least 1. 32 by default.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Whether to visit the samples in a new random order every epoch. True by default.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>The seed of the shuffling and of the validation split; equal seeds (and data and network) give
    /// bit-identical training. 0 by default.</summary>
    public int Seed { get; init; }

    /// <summary>The fraction of the training data held out for validation when no validation data is given, in [0, 1);
    /// the split is stratified by class for classification data (labels or one-hot rows). 0 (none) by default.</summary>
    public double ValidationFraction { get; init; }

    /// <summary>Early stopping on the monitored loss; none by default.</summary>
    public EarlyStopping? EarlyStopping { get; init; }

    /// <summary>When set, gradients are rescaled before each update so that their global L2 norm over every parameter
    /// is at most this value (Pascanu, Mikolov and Bengio, 2013). Null (no clipping) by default.</summary>
    public double? MaxGradientNorm { get; init; }

    /// <summary>Sets the optimizer's learning rate before every epoch from the rate it had when <c>Fit</c> started, and
    /// hears the monitored loss (validation loss, else training loss) after every epoch. Null (the rate is left alone) by default.</summary>
    public ILearningRateSchedule? LearningRateSchedule { get; init; }

    /// <summary>Receives each epoch's result as training goes; null by default.</summary>
    public IProgress<EpochResult>? Progress { get; init; }

    /// <summary>Observers notified at the start and end of every epoch and after every batch. None by default.</summary>
    public IReadOnlyList<ITrainingObserver> Observers { get; init; } = [];

    internal void Validate()
    {
        if (Epochs <= 0)
        {
            throw new ArgumentOutOfRangeException("options", Epochs, $"options.Epochs must be at least 1, but it is {Epochs}.");
        }

        if (BatchSize <= 0)
        {
            throw new ArgumentOutOfRangeException("options", BatchSize, $"options.BatchSize must be at least 1, but it is {BatchSize}.");
        }

        if (!(ValidationFraction >= 0 && ValidationFraction < 1))
        {
            throw new ArgumentOutOfRangeException("options", ValidationFraction,
                string.Create(CultureInfo.InvariantCulture, $"options.ValidationFraction must be in [0, 1), but it is {ValidationFraction}."));
        }

        if (MaxGradientNorm is double norm && (!(norm > 0) || !double.IsFinite(norm)))
        {
            throw new ArgumentOutOfRangeException("options", norm,
                string.Create(CultureInfo.InvariantCulture, $"options.MaxGradientNorm must be a finite number greater than 0, but it is {norm}."));
        }

        EarlyStopping?.Validate();
        if (Observers is null || Observers.Any(o => o is null))
        {
            throw new ArgumentException("options.Observers must be a list of observers without nulls.", "options");
        }
    }
}
