using System.Diagnostics;
using Backprop.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop;

/// <content>Training over a whole data set: mini-batches, validation, early stopping, numeric health, clipping, cancellation.</content>
public sealed partial class Trainer<T>
{
    private const int EvaluationChunk = 256;

    private ForwardPass<T>? _evaluationPass;

    /// <summary>Trains on a data set with target rows (regression targets, or one-hot rows for classes), over shuffled mini-batches.</summary>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="targets">The targets, rows × output size.</param>
    /// <param name="options">Epochs, batch size, shuffling, seed, validation, early stopping and clipping; the defaults of <see cref="FitOptions"/> when null.</param>
    /// <param name="validation">Held-out data evaluated after every epoch; when null, <see cref="FitOptions.ValidationFraction"/> of the data is held out instead (if above 0).</param>
    /// <param name="cancellationToken">Stops training between two batches with <see cref="OperationCanceledException"/>; the network keeps the weights of the last finished step.</param>
    /// <returns>Every epoch's losses and accuracies, and how training ended.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inputs"/> or <paramref name="targets"/> is null.</exception>
    /// <exception cref="ArgumentException">The data set is empty, the matrices disagree in rows or in width with the network, a value is not finite, a target is outside the loss's domain, or the validation split leaves a side empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The network is already being trained by another call, or the learning-rate schedule gave a rate that is not finite and positive.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient became NaN or infinite; the weights are those before the failing step.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingHistory Fit(Matrix<T> inputs, Matrix<T> targets, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default)
    {
        options ??= new FitOptions();
        options.Validate();
        var data = Prepare(inputs, targets, nameof(inputs), nameof(targets));
        return FitCore(data, PrepareValidation(validation), options, cancellationToken);
    }

    /// <summary>Trains a classifier on a data set with integer class labels, turned into one-hot rows (or, for a binary
    /// classifier, into a 0/1 target column).</summary>
    /// <remarks>A network with one output is a binary classifier when its loss is an <see cref="IBinaryLoss"/>
    /// (<see cref="BinaryCrossEntropy"/>, <see cref="BinaryCrossEntropyWithLogits"/>) or its output activation is
    /// <see cref="Sigmoid"/>: its labels are 0 and 1, each becoming the target of the one output, and the history records
    /// the accuracy of <see cref="Network{T}.PredictClasses(Matrix{T})"/>'s threshold at probability 0.5. With several
    /// outputs the labels are classes of a multi-class classifier, scored by arg-max, whatever the loss.</remarks>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="labels">One class per row, each in [0, output size); 0 or 1 for a one-output binary classifier.</param>
    /// <param name="options">Epochs, batch size, shuffling, seed, validation, early stopping and clipping; the defaults of <see cref="FitOptions"/> when null.</param>
    /// <param name="validation">Held-out data evaluated after every epoch; when null, <see cref="FitOptions.ValidationFraction"/> of the data is held out instead (stratified by class).</param>
    /// <param name="cancellationToken">Stops training between two batches with <see cref="OperationCanceledException"/>; the network keeps the weights of the last finished step.</param>
    /// <returns>Every epoch's losses and accuracies, and how training ended.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inputs"/> or <paramref name="labels"/> is null.</exception>
    /// <exception cref="ArgumentException">The data set is empty, the counts of rows and labels differ, a value is not finite, the loss rejects one-hot targets, or the validation split leaves a side empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside [0, output size) (outside {0, 1} for a binary classifier), or an option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The network is already being trained by another call, or the learning-rate schedule gave a rate that is not finite and positive.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient became NaN or infinite; the weights are those before the failing step.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingHistory Fit(Matrix<T> inputs, int[] labels, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default)
    {
        options ??= new FitOptions();
        options.Validate();
        var data = Prepare(inputs, labels, nameof(inputs), nameof(labels));
        return FitCore(data, PrepareValidation(validation), options, cancellationToken);
    }

    /// <summary>Trains on a data set with target rows and a weight per sample: each sample's loss counts in proportion to
    /// its weight (see <see cref="WeightedLoss"/>), as if it were repeated that many times.</summary>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="targets">The targets, rows × output size.</param>
    /// <param name="sampleWeights">One weight per row, finite and at least 0, not all 0; multiplied by
    /// <see cref="FitOptions.ClassWeights"/> when those are set.</param>
    /// <param name="options">The training settings; the defaults of <see cref="FitOptions"/> when null.</param>
    /// <param name="validation">Held-out data evaluated after every epoch (with its own <see cref="ValidationData{T}.SampleWeights"/>, if any);
    /// when null, <see cref="FitOptions.ValidationFraction"/> of the data, with its weights, is held out instead.</param>
    /// <param name="cancellationToken">Stops training between two batches with <see cref="OperationCanceledException"/>.</param>
    /// <returns>Every epoch's losses (weighted) and accuracies, and how training ended.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">As for the unweighted <c>Fit</c>, or <paramref name="sampleWeights"/> does not have one finite, non-negative weight per row, or they are all 0.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The network is already being trained by another call, or the learning-rate schedule gave a rate that is not finite and positive.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient became NaN or infinite; the weights are those before the failing step.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingHistory Fit(Matrix<T> inputs, Matrix<T> targets, double[] sampleWeights, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default)
    {
        options ??= new FitOptions();
        options.Validate();
        var data = Prepare(inputs, targets, nameof(inputs), nameof(targets));
        return FitCore(data with { Weights = CheckedWeights(sampleWeights, data.Rows, nameof(sampleWeights)) }, PrepareValidation(validation), options, cancellationToken);
    }

    /// <summary>Trains a classifier on a data set with integer class labels and a weight per sample: each sample's loss
    /// counts in proportion to its weight (see <see cref="WeightedLoss"/>), as if it were repeated that many times.</summary>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="labels">One class per row, as for the unweighted <c>Fit</c>.</param>
    /// <param name="sampleWeights">One weight per row, finite and at least 0, not all 0; multiplied by
    /// <see cref="FitOptions.ClassWeights"/> when those are set.</param>
    /// <param name="options">The training settings; the defaults of <see cref="FitOptions"/> when null.</param>
    /// <param name="validation">Held-out data evaluated after every epoch (with its own <see cref="ValidationData{T}.SampleWeights"/>, if any);
    /// when null, <see cref="FitOptions.ValidationFraction"/> of the data, with its weights, is held out instead (stratified by class).</param>
    /// <param name="cancellationToken">Stops training between two batches with <see cref="OperationCanceledException"/>.</param>
    /// <returns>Every epoch's losses (weighted) and accuracies, and how training ended.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">As for the unweighted <c>Fit</c>, or <paramref name="sampleWeights"/> does not have one finite, non-negative weight per row, or they are all 0.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label or an option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The network is already being trained by another call, or the learning-rate schedule gave a rate that is not finite and positive.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient became NaN or infinite; the weights are those before the failing step.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingHistory Fit(Matrix<T> inputs, int[] labels, double[] sampleWeights, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default)
    {
        options ??= new FitOptions();
        options.Validate();
        var data = Prepare(inputs, labels, nameof(inputs), nameof(labels));
        return FitCore(data with { Weights = CheckedWeights(sampleWeights, data.Rows, nameof(sampleWeights)) }, PrepareValidation(validation), options, cancellationToken);
    }

    /// <summary>Runs <see cref="Fit(Matrix{T}, Matrix{T}, FitOptions?, ValidationData{T}?, CancellationToken)"/> on the thread pool.</summary>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="targets">The targets, rows × output size.</param>
    /// <param name="options">The training settings; the defaults of <see cref="FitOptions"/> when null.</param>
    /// <param name="validation">Held-out data evaluated after every epoch, or null.</param>
    /// <param name="cancellationToken">Stops training between two batches.</param>
    /// <returns>A task whose result is the training history; it faults with the exceptions <c>Fit</c> documents.</returns>
    public Task<TrainingHistory> FitAsync(Matrix<T> inputs, Matrix<T> targets, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Fit(inputs, targets, options, validation, cancellationToken), cancellationToken);

    /// <summary>Runs <see cref="Fit(Matrix{T}, int[], FitOptions?, ValidationData{T}?, CancellationToken)"/> on the thread pool.</summary>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="labels">One class per row.</param>
    /// <param name="options">The training settings; the defaults of <see cref="FitOptions"/> when null.</param>
    /// <param name="validation">Held-out data evaluated after every epoch, or null.</param>
    /// <param name="cancellationToken">Stops training between two batches.</param>
    /// <returns>A task whose result is the training history; it faults with the exceptions <c>Fit</c> documents.</returns>
    public Task<TrainingHistory> FitAsync(Matrix<T> inputs, int[] labels, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Fit(inputs, labels, options, validation, cancellationToken), cancellationToken);

    /// <summary>Computes the loss of the network on a data set without training, batch by batch.</summary>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="targets">The targets, rows × output size.</param>
    /// <returns>The loss over the whole set (for a mean loss, the mean over all of it), plus the layers' regularisation
    /// penalties if any: the objective that training minimises.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A matrix has the wrong shape or a non-finite value.</exception>
    public double Evaluate(Matrix<T> inputs, Matrix<T> targets) =>
        EvaluateCore(Prepare(inputs, targets, nameof(inputs), nameof(targets))).Loss;

    /// <summary>Evaluates the network on a data set with target rows without training: the loss, and the metrics that fit
    /// the output (see <see cref="EvaluationResult"/>).</summary>
    /// <remarks>What the outputs are is decided as in <c>Fit</c>: one output with an <see cref="IBinaryLoss"/> or a
    /// <see cref="Sigmoid"/> is a binary classifier (0/1 targets); several outputs with an <see cref="IBinaryLoss"/> are a
    /// multi-label classifier (a 0/1 target matrix); one-hot rows are classes of a multi-class classifier; anything else is
    /// a regression.</remarks>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="targets">The targets, rows × output size.</param>
    /// <returns>The loss (as <see cref="Evaluate(Matrix{T}, Matrix{T})"/>) and the metrics.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A matrix has the wrong shape or a non-finite value, or a target is outside the loss's domain.</exception>
    public EvaluationResult EvaluateMetrics(Matrix<T> inputs, Matrix<T> targets) =>
        Measure(Prepare(inputs, targets, nameof(inputs), nameof(targets)));

    /// <summary>Evaluates a classifier on a data set with integer class labels without training: the loss, and the
    /// classification metrics (see <see cref="EvaluationResult"/>).</summary>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="labels">One class per row, as for <see cref="Fit(Matrix{T}, int[], FitOptions?, ValidationData{T}?, CancellationToken)"/>.</param>
    /// <returns>The loss and the metrics.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The counts of rows and labels differ, or a value is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside [0, output size) (outside {0, 1} for a binary classifier).</exception>
    public EvaluationResult EvaluateMetrics(Matrix<T> inputs, int[] labels) =>
        Measure(Prepare(inputs, labels, nameof(inputs), nameof(labels)));

    /// <summary>A data set ready for training: row-major copies, the class of every row when the targets are classes
    /// (0 or 1 for a binary classifier), and how its accuracy is scored.</summary>
    internal sealed record DataSet(T[] X, T[] Y, int Rows, int[]? Classes, AccuracyMode Mode)
    {
        /// <summary>One weight per row (sample weights, times class weights for training data), or null.</summary>
        public T[]? Weights { get; init; }
    }

    /// <summary>Sample weights as the element type, after checking one finite, non-negative weight per row, not all 0.</summary>
    private static T[] CheckedWeights(double[] weights, int rows, string paramName)
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

    /// <summary>Whether the network is a binary classifier: one output, with a binary loss or a sigmoid.</summary>
    internal bool IsBinaryClassifier => Network.OutputSize == 1 && (Loss is IBinaryLoss || Network.Layers[^1].Activation is Sigmoid);

    /// <summary>Whether the network is a multi-label classifier when its targets are a matrix: several outputs, a binary loss.</summary>
    internal bool IsMultiLabelClassifier => Network.OutputSize > 1 && Loss is IBinaryLoss;

    /// <summary>Whether the outputs are logits, for reading them as yes/no decisions; a sigmoid's outputs are probabilities.</summary>
    private bool DecidesOnLogits => Loss is IBinaryLoss { TakesLogits: true };

    /// <summary>How data is scored: <paramref name="declaredClasses"/> when its classes were given as labels,
    /// <paramref name="hasClasses"/> when every row has one.</summary>
    internal AccuracyMode ModeFor(bool declaredClasses, bool hasClasses) =>
        IsBinaryClassifier ? AccuracyMode.Binary
        : IsMultiLabelClassifier && !declaredClasses ? AccuracyMode.MultiLabel
        : hasClasses ? AccuracyMode.ArgMax
        : AccuracyMode.None;

    private DataSet Prepare(Matrix<T> inputs, Matrix<T> targets, string inputsName, string targetsName)
    {
        T[] x = Network.ToRowMajor(inputs, inputsName);
        ArgumentNullException.ThrowIfNull(targets, targetsName);
        CheckTargetShape(targets.RowCount, targets.ColumnCount, inputs.RowCount, targetsName);
        T[] y = targets.ToRowMajorArray();
        CheckTargetValues(y, targetsName);
        int[]? classes = IsBinaryClassifier
            ? BinaryClassesOf(y)
            : Backprop.Data.OneHot.ClassesOfOneHotRows<T>(y, inputs.RowCount, Network.OutputSize);
        return new DataSet(x, y, inputs.RowCount, classes, ModeFor(declaredClasses: false, hasClasses: classes is not null));
    }

    private DataSet Prepare(Matrix<T> inputs, int[] labels, string inputsName, string labelsName)
    {
        T[] x = Network.ToRowMajor(inputs, inputsName);
        T[] y = IsBinaryClassifier
            ? BinaryTargets(labels, inputs.RowCount, labelsName)
            : OneHot(CheckedForOneOutput(labels, labelsName), inputs.RowCount, Network.OutputSize, labelsName);
        CheckTargetValues(y, labelsName);
        return new DataSet(x, y, inputs.RowCount, (int[])labels.Clone(), ModeFor(declaredClasses: true, hasClasses: true));
    }

    /// <summary>The class of every row of a one-column target, when every target is 0 or 1; otherwise null.</summary>
    private static int[]? BinaryClassesOf(T[] y)
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
        ArgumentNullException.ThrowIfNull(labels, paramName);
        if (labels.Length != rows)
        {
            throw new ArgumentException($"{paramName} has {labels.Length} labels, but there are {rows} input samples; every sample needs one label.", paramName);
        }

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

    private DataSet? PrepareValidation(ValidationData<T>? validation)
    {
        var data = validation switch
        {
            null => null,
            { Labels: { } labels } => Prepare(validation.Inputs, labels, "validation.Inputs", "validation.Labels"),
            _ => Prepare(validation.Inputs, validation.Targets!, "validation.Inputs", "validation.Targets"),
        };
        return validation?.SampleWeights is { } weights ? data! with { Weights = CheckedWeights(weights, data!.Rows, "validation.SampleWeights") } : data;
    }

    /// <summary>Holds out a fraction of the data, stratified by class when the rows have classes, with a seeded shuffle.</summary>
    private (DataSet Train, DataSet Validation) Split(DataSet data, double fraction, int seed)
    {
        var random = new DeterministicRandom(unchecked(seed * 31 + 17));
        var groups = data.Classes is null
            ? [Enumerable.Range(0, data.Rows).ToArray()]
            : Enumerable.Range(0, data.Rows).GroupBy(i => data.Classes[i]).OrderBy(g => g.Key).Select(g => g.ToArray()).ToArray();
        var held = new List<int>();
        var kept = new List<int>();
        foreach (var group in groups)
        {
            random.Shuffle(group.AsSpan());
            int count = (int)Math.Round(group.Length * fraction, MidpointRounding.AwayFromZero);
            held.AddRange(group.Take(count));
            kept.AddRange(group.Skip(count));
        }

        if (held.Count == 0 || kept.Count == 0)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"options.ValidationFraction = {fraction} of {data.Rows} samples leaves {kept.Count} for training and {held.Count} for validation; both need at least one."), "options");
        }

        held.Sort();
        kept.Sort();
        return (Subset(data, kept), Subset(data, held));
    }

    private DataSet Subset(DataSet data, List<int> rows)
    {
        int inputWidth = Network.InputSize, outputWidth = Network.OutputSize;
        var x = new T[rows.Count * inputWidth];
        var y = new T[rows.Count * outputWidth];
        int[]? classes = data.Classes is null ? null : new int[rows.Count];
        T[]? weights = data.Weights is null ? null : new T[rows.Count];
        for (int i = 0; i < rows.Count; i++)
        {
            data.X.AsSpan(rows[i] * inputWidth, inputWidth).CopyTo(x.AsSpan(i * inputWidth));
            data.Y.AsSpan(rows[i] * outputWidth, outputWidth).CopyTo(y.AsSpan(i * outputWidth));
            if (classes is not null)
            {
                classes[i] = data.Classes![rows[i]];
            }

            if (weights is not null)
            {
                weights[i] = data.Weights![rows[i]];
            }
        }

        return new DataSet(x, y, rows.Count, classes, data.Mode) { Weights = weights };
    }

    internal TrainingHistory FitCore(DataSet data, DataSet? validation, FitOptions options, CancellationToken cancellationToken)
    {
        if (validation is null && options.ValidationFraction > 0)
        {
            (data, validation) = Split(data, options.ValidationFraction, options.Seed);
        }

        var feeder = new InMemoryFeeder<T>(Network.InputSize, Network.OutputSize, options.Shuffle, options.Seed)
        {
            Gather = GatherModeFor(Math.Min(options.BatchSize, data.Rows)),
        };
        feeder.SetRows(data.X, data.Y, data.Classes, data.Rows);
        feeder.SetWeights(options.ClassWeights is null ? data.Weights : options.ClassWeights.Apply(data.Weights, data.Classes, Network.OutputSize == 1 ? 2 : Network.OutputSize, data.Rows));
        return Train(feeder, validation, options, cancellationToken, data.Mode);
    }

    /// <summary>How batches of <paramref name="rows"/> rows are best copied: by both threads when the step's products
    /// are split across them, by the otherwise idle worker in the background when the products stay on one thread, and
    /// by the training thread alone when the network may use one thread.</summary>
    private GatherMode GatherModeFor(int rows)
    {
        if (Network.MaxDegreeOfParallelism < 2 || ParallelWorkers.MaxParts < 2)
        {
            return GatherMode.Caller;
        }

        // A dense layer's products (forward and weight gradient) are 2·rows·weights flops each.
        bool split = Network.Layers.SelectMany(l => l.Parameters).Any(p => Gemm.WouldSplit(2L * rows * p.Length));
        return split ? GatherMode.Shared : GatherMode.Background;
    }

    /// <summary>Runs the epochs with the network marked as being trained, and releases the feeder however they end.
    /// <paramref name="mode"/> says how the training accuracy is scored; by default, as a source's data: classes when it has them.</summary>
    private TrainingHistory Train(BatchFeeder<T> feeder, DataSet? validation, FitOptions options, CancellationToken cancellationToken, AccuracyMode? mode = null)
    {
        using (feeder)
        using (Network.HoldForTraining())
        {
            return RunEpochs(feeder, validation, options, cancellationToken, mode ?? ModeFor(feeder.HasClasses, feeder.HasClasses));
        }
    }

    /// <summary>The epoch loop, the same for in-memory and streamed data: the feeder gives each epoch's batches.</summary>
    private TrainingHistory RunEpochs(BatchFeeder<T> feeder, DataSet? validation, FitOptions options, CancellationToken cancellationToken, AccuracyMode mode)
    {
        var history = new TrainingHistory();
        int[] classes = [];

        var early = options.EarlyStopping;
        double best = double.PositiveInfinity;
        int bestEpoch = 0, epochsWithoutImprovement = 0;
        T[][]? bestWeights = null;

        int inputWidth = Network.InputSize, outputWidth = Network.OutputSize;
        var observers = options.Observers;
        var schedule = options.LearningRateSchedule;
        double baseLearningRate = BaseLearningRate;
        int firstEpoch = EpochsCompleted + 1, lastEpoch = EpochsCompleted + options.Epochs;
        for (int epoch = firstEpoch; epoch <= lastEpoch; epoch++)
        {
            long started = Stopwatch.GetTimestamp();
            if (schedule is not null)
            {
                double scheduled = schedule.LearningRateFor(epoch, baseLearningRate);
                if (!(scheduled > 0) || !double.IsFinite(scheduled))
                {
                    throw new InvalidOperationException(FormattableString.Invariant(
                        $"options.LearningRateSchedule ({schedule}) gave the learning rate {scheduled} for epoch {epoch}; optimizers need a finite rate greater than 0 (give the schedule a positive minimum)."));
                }

                Optimizer.LearningRate = scheduled;
            }

            double learningRate = Optimizer.LearningRate;
            for (int o = 0; o < observers.Count; o++)
            {
                observers[o].OnEpochBegin(epoch);
            }

            // The feeder orders the epoch from the seed and the epoch's number alone: a resumed run visits the samples
            // exactly as an uninterrupted one.
            int batchSize = Math.Min(options.BatchSize, feeder.BeginEpoch(epoch));
            var pass = FitPass(batchSize);
            if (feeder.HasClasses && classes.Length < batchSize)
            {
                classes = new int[batchSize];
            }

            var batchInputs = pass.Input.AsSpan(0, batchSize * inputWidth);
            var batchTargets = pass.Targets.AsSpan(0, batchSize * outputWidth);
            var batchClasses = feeder.HasClasses ? classes.AsSpan(0, batchSize) : default;
            double total = 0;
            var tally = new DecisionTally();
            long rows = 0;
            double weightTotal = 0;
            int batch = 0, count;
            while ((count = feeder.NextBatch(batchInputs, batchTargets, batchClasses)) > 0)
            {
                // Before every step; copying the batch into the pass before it changes nothing a caller can see.
                cancellationToken.ThrowIfCancellationRequested();
                batch++;
                for (int o = 0; o < observers.Count; o++)
                {
                    observers[o].OnBatchBegin(epoch, batch);
                }

                pass.SampleWeights = feeder.BatchWeights;
                double loss = StepCore(pass, count, epoch, batch, options.MaxGradientNorm);

                // The step leaves the forward pass's outputs in place: they are the pre-update predictions.
                Tally(ref tally, pass, count, mode, mode == AccuracyMode.ArgMax ? batchClasses[..count] : default);

                total += loss * BatchWeight(pass);
                rows += count;
                weightTotal += pass.WeightTotal();
                for (int o = 0; o < observers.Count; o++)
                {
                    observers[o].OnBatchEnd(epoch, batch, loss);
                }
            }

            double epochLoss = Loss.Reduction == LossReduction.Sum ? total : total / weightTotal;
            EvaluationScores? validated = validation is null ? null : EvaluateCore(validation);
            var result = new EpochResult(epoch, epochLoss, validated?.Loss,
                tally.Accuracy(mode, rows), validated?.Accuracy, learningRate, Stopwatch.GetElapsedTime(started))
            {
                HammingAccuracy = tally.HammingAccuracy(mode, rows, outputWidth),
                ValidationHammingAccuracy = validated?.HammingAccuracy,
            };
            history.Add(result);
            EpochsCompleted = epoch;
            for (int o = 0; o < observers.Count; o++)
            {
                observers[o].OnEpochEnd(result);
            }

            options.Progress?.Report(result);
            schedule?.OnEpochEnd(epoch, validated?.Loss ?? epochLoss);

            if (early is not null)
            {
                double monitored = validated?.Loss ?? epochLoss;
                if (monitored < best - early.MinDelta)
                {
                    best = monitored;
                    bestEpoch = epoch;
                    epochsWithoutImprovement = 0;
                    if (early.RestoreBestWeights)
                    {
                        bestWeights = SnapshotWeights(bestWeights);
                    }
                }
                else if (++epochsWithoutImprovement >= early.Patience)
                {
                    history.StoppedEarly = epoch < lastEpoch;
                    break;
                }
            }
        }

        if (early is not null)
        {
            history.BestEpoch = bestEpoch;
            if (bestWeights is not null && bestEpoch != EpochsCompleted)
            {
                RestoreWeights(bestWeights);
            }
        }

        return history;
    }

    /// <summary>The objective (loss plus penalties) and, for class targets, the accuracies of the network on a data set,
    /// in inference mode; <paramref name="outputs"/>, when given, receives every row's outputs.</summary>
    private EvaluationScores EvaluateCore(DataSet data, T[]? outputs = null)
    {
        int rows = data.Rows, chunk = Math.Min(rows, EvaluationChunk), width = Network.OutputSize;
        if (_evaluationPass is null || _evaluationPass.Capacity < chunk)
        {
            // Kept for the next epoch's evaluation: a pass holds every layer's buffers, 220 KB for the digits network.
            _evaluationPass = new ForwardPass<T>(Network, chunk);
        }

        var pass = _evaluationPass;
        double total = 0, weightTotal = 0;
        var tally = new DecisionTally();
        for (int start = 0; start < rows; start += chunk)
        {
            int count = Math.Min(chunk, rows - start);
            data.X.AsSpan(start * Network.InputSize, count * Network.InputSize).CopyTo(pass.Input);
            data.Y.AsSpan(start * width, count * width).CopyTo(pass.Targets);
            ForwardCore(pass, count, training: false);
            pass.SampleWeights = data.Weights is null ? default : data.Weights.AsMemory(start, count);
            total += DataLossCore(pass) * BatchWeight(pass);
            weightTotal += pass.WeightTotal();
            Tally(ref tally, pass, count, data.Mode, data.Mode == AccuracyMode.ArgMax ? data.Classes.AsSpan(start, count) : default);
            if (outputs is not null)
            {
                pass.ActivationBuffers[^1].AsSpan(0, count * width).CopyTo(outputs.AsSpan(start * width));
            }
        }

        double loss = (Loss.Reduction == LossReduction.Sum ? total : total / weightTotal) + Network.RegularizationPenalty();
        return new EvaluationScores(loss, tally.Accuracy(data.Mode, rows), tally.HammingAccuracy(data.Mode, rows, width));
    }

    /// <summary>Adds a pass's first <paramref name="count"/> rows to an epoch's or data set's counts of right decisions.</summary>
    private void Tally(ref DecisionTally tally, ForwardPass<T> pass, int count, AccuracyMode mode, ReadOnlySpan<int> classes)
    {
        int width = Network.OutputSize;
        ReadOnlySpan<T> outputs = pass.ActivationBuffers[^1].AsSpan(0, count * width);
        switch (mode)
        {
            case AccuracyMode.ArgMax:
                for (int r = 0; r < count; r++)
                {
                    if (Network<T>.ArgMax(outputs.Slice(r * width, width)) == classes[r])
                    {
                        tally.RowsRight++;
                    }
                }

                break;
            case AccuracyMode.Binary or AccuracyMode.MultiLabel:
                TallyDecisions(ref tally, outputs, pass.Targets.AsSpan(0, count * width), width, DecisionCut);
                break;
        }
    }

    /// <summary>Counts rows whose every decision (output above <paramref name="cut"/>) matches its 0/1 target, and the
    /// matching decisions; a target other than 0 or 1 makes the tally unscorable.</summary>
    private static void TallyDecisions(ref DecisionTally tally, ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, int width, T cut)
    {
        for (int start = 0; start < targets.Length; start += width)
        {
            int right = 0;
            for (int j = start; j < start + width; j++)
            {
                T target = targets[j];
                if (target != T.Zero && target != T.One)
                {
                    tally.Unscorable = true;
                    return;
                }

                if ((outputs[j] > cut) == (target == T.One))
                {
                    right++;
                }
            }

            tally.LabelsRight += right;
            if (right == width)
            {
                tally.RowsRight++;
            }
        }
    }

    /// <summary>The right decisions counted over an epoch or a data set.</summary>
    private struct DecisionTally
    {
        /// <summary>Rows predicted right: the arg-max class, the binary class, or every label of a multi-label row.</summary>
        public long RowsRight;

        /// <summary>Multi-label decisions predicted right, one per output of every row.</summary>
        public long LabelsRight;

        /// <summary>Whether a target was neither 0 nor 1, so that decisions cannot be scored.</summary>
        public bool Unscorable;

        public readonly double? Accuracy(AccuracyMode mode, long rows) =>
            mode == AccuracyMode.None || Unscorable ? null : RowsRight / (double)rows;

        public readonly double? HammingAccuracy(AccuracyMode mode, long rows, int width) =>
            mode != AccuracyMode.MultiLabel || Unscorable ? null : LabelsRight / ((double)rows * width);
    }

    private T[][] SnapshotWeights(T[][]? reuse)
    {
        var parameters = Network.Layers.SelectMany(l => l.Parameters).ToArray();
        reuse ??= parameters.Select(p => new T[p.Length]).ToArray();
        for (int i = 0; i < parameters.Length; i++)
        {
            parameters[i].ValueArray.CopyTo(reuse[i], 0);
        }

        return reuse;
    }

    private void RestoreWeights(T[][] saved)
    {
        var parameters = Network.Layers.SelectMany(l => l.Parameters).ToArray();
        for (int i = 0; i < parameters.Length; i++)
        {
            saved[i].CopyTo(parameters[i].ValueArray, 0);
        }
    }
}
