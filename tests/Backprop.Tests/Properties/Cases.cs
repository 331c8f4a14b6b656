using System.Globalization;

namespace Backprop.Tests.Properties;

/// <summary>A network and a batch to run through it: the case of the gradient-check and prediction properties.</summary>
/// <param name="Network">The network.</param>
/// <param name="Batch">The number of rows, 1–9.</param>
/// <param name="DataSeed">The seed of the inputs, the targets and (for prediction) the biases.</param>
public sealed record NetworkCase(NetworkSpec Network, int Batch, int DataSeed)
{
    public override string ToString() =>
        FormattableString.Invariant($"[{Network}] batch {Batch}, data seed {DataSeed}");
}

/// <summary>A <see cref="NetworkCase"/> of the larger shapes of <see cref="Generators.WideNetworkCaseGen"/>.</summary>
public sealed record WideNetworkCase(NetworkCase Case)
{
    public override string ToString() => Case.ToString();
}

/// <summary>A network, an optimizer and a <c>Fit</c> call: the case of the training and save/load properties.</summary>
/// <param name="Network">The network; its <see cref="NetworkSpec.Seed"/> is the seed both trained copies start from.</param>
/// <param name="OtherSeed">A second weight seed, different from the network's.</param>
/// <param name="Optimizer">The optimizer.</param>
/// <param name="Rows">The number of training samples.</param>
/// <param name="BatchSize">The mini-batch size, 1–9.</param>
/// <param name="Epochs">The number of epochs, 1–3.</param>
/// <param name="FitSeed">The seed of the shuffle.</param>
/// <param name="MaxGradientNorm">Gradient clipping, or null for none.</param>
/// <param name="DataSeed">The seed of the inputs and targets.</param>
public sealed record TrainingCase(NetworkSpec Network, int OtherSeed, OptimizerChoice Optimizer, int Rows, int BatchSize, int Epochs,
    int FitSeed, double? MaxGradientNorm, int DataSeed)
{
    public FitOptions FitOptions(int? epochs = null) => new()
    {
        Epochs = epochs ?? Epochs,
        BatchSize = BatchSize,
        Shuffle = true,
        Seed = FitSeed,
        MaxGradientNorm = MaxGradientNorm,
    };

    public override string ToString() => FormattableString.Invariant(
        $"[{Network}] other seed {OtherSeed}; {Optimizer}; {Rows} rows, batch {BatchSize}, {Epochs} epoch(s), fit seed {FitSeed}, clip {(MaxGradientNorm is { } norm ? norm.ToString(CultureInfo.InvariantCulture) : "none")}, data seed {DataSeed}");
}
