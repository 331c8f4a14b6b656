using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop;

/// <summary>A held-out data set that <c>Fit</c> evaluates after every epoch, for monitoring and early stopping: MathNet
/// matrices, or rows in the caller's memory (row-major, as <c>Fit</c>'s own <see cref="ReadOnlyMemory{T}"/> overloads
/// take them, read in place).</summary>
/// <remarks>Thread safety: it only holds references: <c>Fit</c> copies matrices when it starts, reads row-major memory
/// in place and never writes to either, so one instance may be given to <c>Fit</c> calls that run at once, as long as
/// nobody changes the data or labels meanwhile.</remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class ValidationData<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Validation samples with target rows.</summary>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="targets">The targets, rows × output size.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public ValidationData(Matrix<T> inputs, Matrix<T> targets)
    {
        Inputs = inputs ?? throw new ArgumentNullException(nameof(inputs));
        Targets = targets ?? throw new ArgumentNullException(nameof(targets));
    }

    /// <summary>Validation samples with class labels, turned into one-hot rows by the trainer (into a 0/1 target column
    /// for a one-output binary classifier).</summary>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="labels">One class per row.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public ValidationData(Matrix<T> inputs, int[] labels)
    {
        Inputs = inputs ?? throw new ArgumentNullException(nameof(inputs));
        Labels = labels ?? throw new ArgumentNullException(nameof(labels));
    }

    /// <summary>Validation samples with target rows, both row-major in the caller's memory (sample r at
    /// [r·input size, (r + 1)·input size), its targets likewise), read in place by every evaluation.</summary>
    /// <param name="inputs">rows × input size values, row-major.</param>
    /// <param name="targets">rows × output size values, row-major.</param>
    /// <remarks>The shapes are checked against the network when <c>Fit</c> starts: inputs must be a whole number of
    /// rows of the input size, and targets that number of rows of the output size.</remarks>
    public ValidationData(ReadOnlyMemory<T> inputs, ReadOnlyMemory<T> targets)
    {
        RowMajorInputs = inputs;
        RowMajorTargets = targets;
    }

    /// <summary>Validation samples with class labels, the samples row-major in the caller's memory (read in place); the
    /// labels are turned into one-hot rows by the trainer (into a 0/1 target column for a one-output binary
    /// classifier).</summary>
    /// <param name="inputs">rows × input size values, row-major, one row per label.</param>
    /// <param name="labels">One class per row.</param>
    /// <exception cref="ArgumentNullException"><paramref name="labels"/> is null.</exception>
    public ValidationData(ReadOnlyMemory<T> inputs, int[] labels)
    {
        RowMajorInputs = inputs;
        Labels = labels ?? throw new ArgumentNullException(nameof(labels));
    }

    /// <summary>The samples, when given as a matrix; null when given row-major (<see cref="RowMajorInputs"/>).</summary>
    public Matrix<T>? Inputs { get; }

    /// <summary>The target rows, when given as a matrix.</summary>
    public Matrix<T>? Targets { get; }

    /// <summary>Whether the samples (and targets, if any) were given row-major in memory rather than as matrices.</summary>
    public bool IsRowMajor => Inputs is null;

    /// <summary>The samples, when given row-major; empty otherwise.</summary>
    public ReadOnlyMemory<T> RowMajorInputs { get; }

    /// <summary>The target rows, when given row-major; empty otherwise.</summary>
    public ReadOnlyMemory<T> RowMajorTargets { get; }

    /// <summary>The class labels, when given as labels.</summary>
    public int[]? Labels { get; }

    /// <summary>One weight per validation sample for the validation loss (see <see cref="WeightedLoss"/>), or null (the
    /// default) for equal weights. <see cref="FitOptions.ClassWeights"/> do not apply to validation data.</summary>
    public double[]? SampleWeights { get; init; }
}
