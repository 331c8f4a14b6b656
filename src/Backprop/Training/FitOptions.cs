using System.Globalization;

namespace Backprop;

/// <summary>Settings of <see cref="Trainer{T}.Fit(MathNet.Numerics.LinearAlgebra.Matrix{T}, MathNet.Numerics.LinearAlgebra.Matrix{T}, FitOptions?, ValidationData{T}?, CancellationToken)"/>
/// and the other <c>Fit</c> overloads, in memory or from an <see cref="ISampleSource{T}"/>.</summary>
/// <remarks>Thread safety: init-only: one instance may be shared by <c>Fit</c> calls that run at once, provided what it
/// refers to may be too: a stateful schedule (<see cref="ReduceOnPlateauSchedule"/>) must not be shared between runs,
/// shared observers and <see cref="Progress"/> are then called from several training threads, and the
/// <see cref="Observers"/> list must not change while a run uses it. <c>Fit</c> calls <see cref="IProgress{T}.Report"/>
/// on its training thread (a <see cref="Progress{T}"/> then runs its handler on the context it captured).</remarks>
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
    /// the split is stratified by class for classification data (labels, one-hot rows, or the 0/1 target column of a binary
    /// classifier). The rows held out are exactly the test rows of <see cref="Data.DataSplit.StratifiedIndices"/> over the
    /// classes (of <see cref="Data.DataSplit.ShuffledIndices"/> without classes) for this fraction and <see cref="Seed"/>.
    /// 0 (none) by default.
    /// Training from an <see cref="ISampleSource{T}"/> cannot hold data out: it needs 0 here, and validation data passed to <c>Fit</c>.</summary>
    public double ValidationFraction { get; init; }

    /// <summary>For training from an <see cref="ISampleSource{T}"/> only: how many samples (rows) are held in memory to
    /// shuffle them; at least 1. 65,536 by default.</summary>
    /// <remarks>
    /// <para>A source of at most this many samples is held whole, and shuffled (or not) exactly as in-memory data: the
    /// same options then train bit for bit as <c>Fit</c> on the same matrices.</para>
    /// <para>A larger source goes through a shuffle buffer of this many samples: the buffer is filled from the start of the
    /// data, then each batch row is a sample drawn at random from it, whose place the next sample read takes; at the end
    /// the buffer is drained in random order. Every sample is visited once per epoch, in an order fixed by
    /// <see cref="Seed"/> and the epoch; samples far apart in the source are mixed less than by a full shuffle, so shuffle a
    /// file sorted by class once on disk, or give a buffer larger than the longest run of one class.</para>
    /// <para>The buffer takes about ShuffleBufferSize × (input size + output size) elements of memory: 65,536 rows of
    /// 784 pixels and 10 classes in <see cref="float"/> are 208 MB. It grows with the data read, so a small source
    /// never takes the whole of it.</para>
    /// </remarks>
    public int ShuffleBufferSize { get; init; } = 65_536;

    /// <summary>Early stopping: an observer run after <see cref="Observers"/>, copied for every run (so these options stay
    /// shareable); none by default. An <see cref="Backprop.EarlyStopping"/> in <see cref="Observers"/> works the same way.</summary>
    public EarlyStopping? EarlyStopping { get; init; }

    /// <summary>When set, gradients are rescaled before each update so that their global L2 norm over every parameter
    /// is at most this value (Pascanu, Mikolov and Bengio, 2013). Null (no clipping) by default.</summary>
    public double? MaxGradientNorm { get; init; }

    /// <summary>Sets the optimizer's learning rate before every epoch from the rate it had when <c>Fit</c> started, and
    /// hears the monitored loss (validation loss, else training loss) after every epoch. Null (the rate is left alone) by default.</summary>
    public ILearningRateSchedule? LearningRateSchedule { get; init; }

    /// <summary>Weights per class for the training loss of a classifier (see <see cref="Backprop.ClassWeights"/>): each
    /// training sample's loss is multiplied by its class's weight (and by its sample weight, if any). Null (equal weights)
    /// by default. Not applied to validation data; for in-memory data with classes only.</summary>
    public ClassWeights? ClassWeights { get; init; }

    /// <summary>Receives each epoch's result as training goes; null by default.</summary>
    public IProgress<EpochResult>? Progress { get; init; }

    /// <summary>Observers notified when the run begins and ends, at the start and end of every epoch and around every
    /// batch, in this order; any of them may stop the run (see <see cref="ITrainingObserver"/>). None by default.</summary>
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

        if (ShuffleBufferSize <= 0)
        {
            throw new ArgumentOutOfRangeException("options", ShuffleBufferSize, $"options.ShuffleBufferSize must be at least 1, but it is {ShuffleBufferSize}.");
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

        EarlyStopping?.Validate("options.EarlyStopping");
        if (Observers is null || Observers.Any(o => o is null))
        {
            throw new ArgumentException("options.Observers must be a list of observers without nulls.", "options");
        }
    }
}
