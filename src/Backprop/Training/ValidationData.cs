using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop;

/// <summary>A held-out data set that <c>Fit</c> evaluates after every epoch, for monitoring and early stopping.</summary>
/// <remarks>Thread safety: it only holds references: <c>Fit</c> copies the data when it starts and never writes to it,
/// so one instance may be given to <c>Fit</c> calls that run at once, as long as nobody changes the matrices or labels
/// meanwhile.</remarks>
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

    /// <summary>The samples.</summary>
    public Matrix<T> Inputs { get; }

    /// <summary>The target rows, when given as a matrix.</summary>
    public Matrix<T>? Targets { get; }

    /// <summary>The class labels, when given as labels.</summary>
    public int[]? Labels { get; }

    /// <summary>One weight per validation sample for the validation loss (see <see cref="WeightedLoss"/>), or null (the
    /// default) for equal weights. <see cref="FitOptions.ClassWeights"/> do not apply to validation data.</summary>
    public double[]? SampleWeights { get; init; }
}
