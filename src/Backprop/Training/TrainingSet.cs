using System.Globalization;
using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop;

/// <summary>A data set ready for training or evaluation: row-major inputs and targets (copies of a caller's matrices, or
/// the caller's own row-major memory, read in place), the class of every row when the targets are classes (0 or 1 for a
/// binary classifier), and how its accuracy is scored.</summary>
/// <typeparam name="T">The element type.</typeparam>
internal sealed record TrainingSet<T>(ReadOnlyMemory<T> X, ReadOnlyMemory<T> Y, int Rows, int[]? Classes, AccuracyMode Mode)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>One weight per row (sample weights, times class weights for training data), or null.</summary>
    public T[]? Weights { get; init; }

    /// <summary>When set, row i of the set is row <c>Index[i]</c> of <see cref="X"/> and <see cref="Y"/> (the rows
    /// a validation split leaves for training, without copying them); <see cref="Classes"/> and <see cref="Weights"/>
    /// are per row of the set. Null: row i is row i.</summary>
    public int[]? Index { get; init; }
}

/// <summary>
/// Turns what <c>Fit</c> and <c>Evaluate</c> are given (target matrices, class labels, <see cref="ValidationData{T}"/>)
/// into checked <see cref="TrainingSet{T}"/>s for a trainer's network and loss, and holds out the validation rows of
/// <see cref="FitOptions.ValidationFraction"/>. Labels become one-hot rows with <see cref="OneHot"/>, and the rows held out
/// are those <see cref="DataSplit"/> chooses as test rows: one rule for both.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
internal sealed class TrainingSetBuilder<T>(Trainer<T> trainer)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private Network<T> Network => trainer.Network;

    private ILossFunction Loss => trainer.Loss;

    /// <summary>Whether the network is a binary classifier: one output, with a binary loss or a sigmoid.</summary>
    public bool IsBinaryClassifier => Network.OutputSize == 1 && (Loss is IBinaryLoss || Network.Layers[^1].Activation is Sigmoid);

    /// <summary>Whether the network is a multi-label classifier when its targets are a matrix: several outputs, a binary loss.</summary>
    public bool IsMultiLabelClassifier => Network.OutputSize > 1 && Loss is IBinaryLoss;

    /// <summary>How data is scored: <paramref name="declaredClasses"/> when its classes were given as labels,
    /// <paramref name="hasClasses"/> when every row has one.</summary>
    public AccuracyMode ModeFor(bool declaredClasses, bool hasClasses) =>
        IsBinaryClassifier ? AccuracyMode.Binary
        : IsMultiLabelClassifier && !declaredClasses ? AccuracyMode.MultiLabel
        : hasClasses ? AccuracyMode.ArgMax
        : AccuracyMode.None;

    /// <summary>Samples with target rows; the rows have classes when the targets are one-hot rows (or 0/1 for a binary classifier).</summary>
    public TrainingSet<T> FromTargets(Matrix<T> inputs, Matrix<T> targets, string inputsName, string targetsName)
    {
        T[] x = Network.ToRowMajor(inputs, inputsName);
        ArgumentNullException.ThrowIfNull(targets, targetsName);
        trainer.CheckTargetShape(targets.RowCount, targets.ColumnCount, inputs.RowCount, targetsName);
        return WithTargets(x, targets.ToRowMajorArray(), inputs.RowCount, targetsName);
    }

    /// <summary>Samples with target rows, both row-major in the caller's memory, which the set reads in place: only
    /// checked here, never copied.</summary>
    public TrainingSet<T> FromTargets(ReadOnlyMemory<T> inputs, ReadOnlyMemory<T> targets, string inputsName, string targetsName)
    {
        int rows = CheckRowMajorInputs(inputs, null, inputsName);
        long expected = (long)rows * Network.OutputSize;
        if (targets.Length != expected)
        {
            throw new ArgumentException(
                $"{targetsName} must hold {expected} values ({rows} rows of {inputsName} × the network's output size {Network.OutputSize}), but it holds {targets.Length}.", targetsName);
        }

        return WithTargets(inputs, targets, rows, targetsName);
    }

    private TrainingSet<T> WithTargets(ReadOnlyMemory<T> x, ReadOnlyMemory<T> y, int rows, string targetsName)
    {
        trainer.CheckTargetValues(y.Span, targetsName);
        int[]? classes = IsBinaryClassifier
            ? BinaryClassesOf(y.Span)
            : OneHot.ClassesOfOneHotRows<T>(y.Span, rows, Network.OutputSize);
        return new TrainingSet<T>(x, y, rows, classes, ModeFor(declaredClasses: false, hasClasses: classes is not null));
    }

    /// <summary>Samples with class labels: one-hot rows, or the 0/1 target column of a binary classifier.</summary>
    public TrainingSet<T> FromLabels(Matrix<T> inputs, int[] labels, string inputsName, string labelsName)
    {
        T[] x = Network.ToRowMajor(inputs, inputsName);
        return WithLabels(x, labels, inputs.RowCount, labelsName);
    }

    /// <summary>Samples with class labels, the inputs row-major in the caller's memory, which the set reads in place:
    /// only checked here, never copied. The number of rows is the number of labels.</summary>
    public TrainingSet<T> FromLabels(ReadOnlyMemory<T> inputs, int[] labels, string inputsName, string labelsName)
    {
        ArgumentNullException.ThrowIfNull(labels, labelsName);
        int rows = CheckRowMajorInputs(inputs, labels.Length, inputsName, labelsName);
        return WithLabels(inputs, labels, rows, labelsName);
    }

    private TrainingSet<T> WithLabels(ReadOnlyMemory<T> x, int[] labels, int rows, string labelsName)
    {
        T[] y = IsBinaryClassifier
            ? BinaryTargets(labels, rows, labelsName)
            : OneHotTargets(CheckedForOneOutput(labels, labelsName), rows, labelsName);
        trainer.CheckTargetValues(y, labelsName);
        return new TrainingSet<T>(x, y, rows, (int[])labels.Clone(), ModeFor(declaredClasses: true, hasClasses: true));
    }

    /// <summary>Checks row-major inputs against the network: a whole number of rows of the input size (exactly
    /// <paramref name="rows"/> of them when that is known from the labels), at least one, every value finite.</summary>
    /// <returns>The number of rows.</returns>
    private int CheckRowMajorInputs(ReadOnlyMemory<T> inputs, int? rows, string paramName, string? rowsName = null)
    {
        int width = Network.InputSize;
        if (rows is { } known)
        {
            long expected = (long)known * width;
            if (inputs.Length != expected)
            {
                throw new ArgumentException(
                    $"{paramName} must hold {expected} values ({known} rows, one per label in {rowsName}, × the network's input size {width}), but it holds {inputs.Length}{(inputs.IsEmpty ? " (a null array converts to empty memory)" : "")}.", paramName);
            }
        }
        else if (inputs.Length % width != 0)
        {
            throw new ArgumentException(
                $"{paramName} must hold whole rows of the network's input size {width} values, but it holds {inputs.Length} = {inputs.Length / width} rows and {inputs.Length % width} values more.", paramName);
        }

        if (inputs.IsEmpty)
        {
            throw new ArgumentException($"{paramName} must hold at least one row (sample), but it is empty (a null array converts to empty memory).", paramName);
        }

        Guard.FiniteValues(inputs.Span, width, paramName);
        return inputs.Length / width;
    }

    /// <summary>The validation data given to <c>Fit</c>, or null.</summary>
    public TrainingSet<T>? FromValidation(ValidationData<T>? validation)
    {
        var data = validation switch
        {
            null => null,
            { IsRowMajor: true, Labels: { } labels } => FromLabels(validation.RowMajorInputs, labels, "validation.RowMajorInputs", "validation.Labels"),
            { IsRowMajor: true } => FromTargets(validation.RowMajorInputs, validation.RowMajorTargets, "validation.RowMajorInputs", "validation.RowMajorTargets"),
            { Labels: { } labels } => FromLabels(validation.Inputs!, labels, "validation.Inputs", "validation.Labels"),
            _ => FromTargets(validation.Inputs!, validation.Targets!, "validation.Inputs", "validation.Targets"),
        };
        return validation?.SampleWeights is { } weights ? WithWeights(data!, weights, "validation.SampleWeights") : data;
    }

    /// <summary>The set with <see cref="CheckedWeights"/> of <paramref name="weights"/>, one per row.</summary>
    public static TrainingSet<T> WithWeights(TrainingSet<T> data, double[] weights, string paramName) =>
        data with { Weights = CheckedWeights(weights, data.Rows, paramName) };

    /// <summary>Sample weights as the element type, after checking one finite, non-negative weight per row, not all 0.</summary>
    public static T[] CheckedWeights(double[] weights, int rows, string paramName)
    {
        ArgumentNullException.ThrowIfNull(weights, paramName);
        if (weights.Length != rows)
        {
            throw new ArgumentException($"{paramName} has {weights.Length} weights, but there are {rows} samples; every sample needs one weight.", paramName);
        }

        var result = new T[rows];
        bool any = false;
        for (int r = 0; r < rows; r++)
        {
            if (!(weights[r] >= 0) || !double.IsFinite(weights[r]))
            {
                throw new ArgumentException(FormattableString.Invariant($"{paramName}[{r}] must be finite and at least 0, but it is {weights[r]}."), paramName);
            }

            result[r] = T.CreateChecked(weights[r]);
            any |= result[r] > T.Zero;
        }

        return any ? result : throw new ArgumentException($"{paramName} are all 0 (or too small for {typeof(T).Name}); at least one sample must count.", paramName);
    }

    /// <summary>Holds out <paramref name="fraction"/> of the rows for validation: the test rows of
    /// <see cref="DataSplit.StratifiedIndices"/> over the rows' classes when they have them, else of
    /// <see cref="DataSplit.ShuffledIndices"/>, for the same fraction and seed.</summary>
    /// <exception cref="ArgumentException">A part would be empty (named as the options' argument).</exception>
    public (TrainingSet<T> Train, TrainingSet<T> Validation) HoldOut(TrainingSet<T> data, double fraction, int seed)
    {
        var (train, held) = data.Classes is { } classes
            ? DataSplit.ChooseStratified(classes, fraction, seed)
            : DataSplit.ChooseShuffled(data.Rows, fraction, seed);
        if (held.Length == 0 || train.Length == 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"options.ValidationFraction = {fraction} of {data.Rows} samples leaves {train.Length} for training and {held.Length} for validation; both need at least one."), "options");
        }

        // The training rows are read where they are, through an index; the held-out rows, which the evaluator reads
        // chunk by chunk, are copied (a tenth of the data for a fraction of 0.1).
        return (View(data, train), Subset(data, held));
    }

    /// <summary>The training rows of a split: a view of the data's rows through an index, without a copy of
    /// them.</summary>
    private static TrainingSet<T> View(TrainingSet<T> data, int[] rows)
    {
        int[]? classes = data.Classes is null ? null : new int[rows.Length];
        T[]? weights = data.Weights is null ? null : new T[rows.Length];
        var index = new int[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            index[i] = data.Index is null ? rows[i] : data.Index[rows[i]];
            if (classes is not null)
            {
                classes[i] = data.Classes![rows[i]];
            }

            if (weights is not null)
            {
                weights[i] = data.Weights![rows[i]];
            }
        }

        return new TrainingSet<T>(data.X, data.Y, rows.Length, classes, data.Mode) { Weights = weights, Index = index };
    }

    private TrainingSet<T> Subset(TrainingSet<T> data, int[] rows)
    {
        int inputWidth = Network.InputSize, outputWidth = Network.OutputSize;
        var x = new T[rows.Length * inputWidth];
        var y = new T[rows.Length * outputWidth];
        int[]? classes = data.Classes is null ? null : new int[rows.Length];
        T[]? weights = data.Weights is null ? null : new T[rows.Length];
        ReadOnlySpan<T> sourceX = data.X.Span, sourceY = data.Y.Span;
        for (int i = 0; i < rows.Length; i++)
        {
            int row = data.Index is null ? rows[i] : data.Index[rows[i]];
            sourceX.Slice(row * inputWidth, inputWidth).CopyTo(x.AsSpan(i * inputWidth));
            sourceY.Slice(row * outputWidth, outputWidth).CopyTo(y.AsSpan(i * outputWidth));
            if (classes is not null)
            {
                classes[i] = data.Classes![rows[i]];
            }

            if (weights is not null)
            {
                weights[i] = data.Weights![rows[i]];
            }
        }

        return new TrainingSet<T>(x, y, rows.Length, classes, data.Mode) { Weights = weights };
    }

    /// <summary>The class of every row of a one-column target, when every target is 0 or 1; otherwise null.</summary>
    private static int[]? BinaryClassesOf(ReadOnlySpan<T> y)
    {
        var classes = new int[y.Length];
        for (int r = 0; r < y.Length; r++)
        {
            if (y[r] == T.One)
            {
                classes[r] = 1;
            }
            else if (y[r] != T.Zero)
            {
                return null;
            }
        }

        return classes;
    }

    /// <summary>The 0/1 target column of a binary classifier's labels.</summary>
    private T[] BinaryTargets(int[] labels, int rows, string paramName)
    {
        CheckLabelCount(labels, rows, paramName);
        var y = new T[rows];
        for (int r = 0; r < rows; r++)
        {
            if ((uint)labels[r] > 1)
            {
                throw new ArgumentOutOfRangeException(paramName, labels[r],
                    $"{paramName}[{r}] is {labels[r]}, but a binary classifier (one output, loss {Loss.Name}, output layer {Network.Layers[^1]}) takes the labels 0 and 1.");
            }

            y[r] = labels[r] == 1 ? T.One : T.Zero;
        }

        return y;
    }

    /// <summary>The one-hot rows of the labels, one column per output.</summary>
    private T[] OneHotTargets(int[] labels, int rows, string paramName)
    {
        CheckLabelCount(labels, rows, paramName);
        int classes = Network.OutputSize;
        var y = new T[rows * classes];
        int bad = OneHot.EncodeRows<T>(labels, classes, y);
        if (bad >= 0)
        {
            throw new ArgumentOutOfRangeException(paramName, labels[bad],
                $"{paramName}[{bad}] is {labels[bad]}, but class labels must be in [0, {classes - 1}] for a network with {classes} outputs.");
        }

        return y;
    }

    private static void CheckLabelCount(int[] labels, int rows, string paramName)
    {
        ArgumentNullException.ThrowIfNull(labels, paramName);
        if (labels.Length != rows)
        {
            throw new ArgumentException($"{paramName} has {labels.Length} labels, but there are {rows} input samples; every sample needs one label.", paramName);
        }
    }

    /// <summary>Rejects labels other than 0 for a one-output network that is not a binary classifier, saying how to make one.</summary>
    private int[] CheckedForOneOutput(int[] labels, string paramName)
    {
        if (labels is not null && Network.OutputSize == 1)
        {
            int bad = Array.FindIndex(labels, l => l != 0);
            if (bad >= 0)
            {
                throw new ArgumentOutOfRangeException(paramName, labels[bad],
                    $"{paramName}[{bad}] is {labels[bad]}, but class labels must be in [0, 0] for a network with 1 outputs and the loss {Loss.Name}: a one-output binary classifier needs a binary loss (Losses.BinaryCrossEntropy, Losses.BinaryCrossEntropyWithLogits) or a Sigmoid output layer.");
            }
        }

        return labels!;
    }
}
