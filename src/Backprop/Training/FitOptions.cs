namespace Backprop;

/// <summary>Settings of <see cref="Trainer{T}.Fit(MathNet.Numerics.LinearAlgebra.Matrix{T}, MathNet.Numerics.LinearAlgebra.Matrix{T}, FitOptions?)"/>.</summary>
public sealed class FitOptions
{
    /// <summary>The number of passes over the training data; at least 1. 10 by default.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>The number of samples per mini-batch (the last batch of an epoch may be smaller); at least 1. 32 by default.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Whether to visit the samples in a new random order every epoch. True by default.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>The seed of the shuffling; equal seeds (and data and network) give bit-identical training. 0 by default.</summary>
    public int Seed { get; init; }

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

        if (Observers is null || Observers.Any(o => o is null))
        {
            throw new ArgumentException("options.Observers must be a list of observers without nulls.", "options");
        }
    }
}
