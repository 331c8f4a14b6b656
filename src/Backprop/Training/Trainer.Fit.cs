using MathNet.Numerics.LinearAlgebra;

namespace Backprop;

/// <content>The entry points of training over a whole data set and of evaluation: they check and prepare the data
/// (<see cref="TrainingSetBuilder{T}"/>) and hand it to the epoch loop (<see cref="FitLoop{T}"/>) or the evaluator
/// (<see cref="Evaluator{T}"/>).</content>
public sealed partial class Trainer<T>
{
    private TrainingSetBuilder<T>? _data;
    private Evaluator<T>? _evaluator;

    /// <summary>Prepares data sets for this trainer's network and loss.</summary>
    internal TrainingSetBuilder<T> Data => _data ??= new TrainingSetBuilder<T>(this);

    /// <summary>Evaluates this trainer's network, in a pass kept from one evaluation to the next.</summary>
    internal Evaluator<T> Evaluator => _evaluator ??= new Evaluator<T>(this);

    // Checks the options before the data (so their errors come first), builds the training set, and runs the epochs.
    private TrainingHistory FitOn(FitOptions? options, Func<TrainingSetBuilder<T>, TrainingSet<T>> data, ValidationData<T>? validation, CancellationToken cancellationToken)
    {
        options ??= new FitOptions();
        options.Validate();
        return new FitLoop<T>(this).Run(data(Data), Data.FromValidation(validation), options, cancellationToken);
    }

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
    /// <exception cref="InvalidOperationException">The network is already being trained by another call, the learning-rate schedule gave a rate that is not finite and positive, or an <see cref="EarlyStopping"/> monitors a metric the epochs do not record.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient became NaN or infinite; the weights are those before the failing step.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingHistory Fit(Matrix<T> inputs, Matrix<T> targets, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default) =>
        FitOn(options, d => d.FromTargets(inputs, targets, nameof(inputs), nameof(targets)), validation, cancellationToken);

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
    /// <exception cref="InvalidOperationException">The network is already being trained by another call, the learning-rate schedule gave a rate that is not finite and positive, or an <see cref="EarlyStopping"/> monitors a metric the epochs do not record.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient became NaN or infinite; the weights are those before the failing step.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingHistory Fit(Matrix<T> inputs, int[] labels, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default) =>
        FitOn(options, d => d.FromLabels(inputs, labels, nameof(inputs), nameof(labels)), validation, cancellationToken);

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
    public TrainingHistory Fit(Matrix<T> inputs, Matrix<T> targets, double[] sampleWeights, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default) =>
        FitOn(options, d => TrainingSetBuilder<T>.WithWeights(d.FromTargets(inputs, targets, nameof(inputs), nameof(targets)), sampleWeights, nameof(sampleWeights)), validation, cancellationToken);

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
    public TrainingHistory Fit(Matrix<T> inputs, int[] labels, double[] sampleWeights, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default) =>
        FitOn(options, d => TrainingSetBuilder<T>.WithWeights(d.FromLabels(inputs, labels, nameof(inputs), nameof(labels)), sampleWeights, nameof(sampleWeights)), validation, cancellationToken);

    /// <summary>Trains a classifier on row-major samples with integer class labels, reading the samples where they are:
    /// no copy of them is made, so training starts at once and needs no memory for a second copy of the data.</summary>
    /// <remarks>
    /// <para>The same training as <see cref="Fit(Matrix{T}, int[], FitOptions?, ValidationData{T}?, CancellationToken)"/>
    /// on the matrix whose row r is <c>inputs[r·n .. (r+1)·n)</c> (n the network's input size): the same batches,
    /// the same steps, bit for bit. A <c>T[]</c>, such as <see cref="Data.IdxData.ReadImageRows{T}(string, double)"/>
    /// returns, converts to <see cref="ReadOnlyMemory{T}"/> as it is.</para>
    /// <para>The memory is read in place throughout the call, every epoch: it must not change until <c>Fit</c> returns
    /// (its values are checked once, at the start). Nothing of it is kept after the call. With
    /// <see cref="FitOptions.ValidationFraction"/> the held-out rows are copied for the evaluation (that fraction of the
    /// data), and the training rows are still read in place.</para>
    /// </remarks>
    /// <param name="inputs">The samples one after another, rows × input size values, row-major; the number of rows is
    /// the number of labels.</param>
    /// <param name="labels">One class per row, each in [0, output size); 0 or 1 for a one-output binary classifier.</param>
    /// <param name="options">Epochs, batch size, shuffling, seed, validation, early stopping and clipping; the defaults of <see cref="FitOptions"/> when null.</param>
    /// <param name="validation">Held-out data evaluated after every epoch; when null, <see cref="FitOptions.ValidationFraction"/> of the data is held out instead (stratified by class).</param>
    /// <param name="cancellationToken">Stops training between two batches with <see cref="OperationCanceledException"/>; the network keeps the weights of the last finished step.</param>
    /// <returns>Every epoch's losses and accuracies, and how training ended.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="labels"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> does not hold labels × input size values (it is empty when a null array was given), a value is not finite (the message names its row and column), the loss rejects one-hot targets, or the validation split leaves a side empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside [0, output size) (outside {0, 1} for a binary classifier), or an option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The network is already being trained by another call, the learning-rate schedule gave a rate that is not finite and positive, or an <see cref="EarlyStopping"/> monitors a metric the epochs do not record.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient became NaN or infinite; the weights are those before the failing step.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingHistory Fit(ReadOnlyMemory<T> inputs, int[] labels, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default) =>
        FitOn(options, d => d.FromLabels(inputs, labels, nameof(inputs), nameof(labels)), validation, cancellationToken);

    /// <summary>Trains on row-major samples and target rows, reading both where they are: no copy of them is made.</summary>
    /// <remarks>The same training as <see cref="Fit(Matrix{T}, Matrix{T}, FitOptions?, ValidationData{T}?, CancellationToken)"/>
    /// on the matrices whose rows these are, bit for bit. Both memories are read in place throughout the call and must not
    /// change until <c>Fit</c> returns; with <see cref="FitOptions.ValidationFraction"/> the held-out rows are copied, the
    /// training rows are not.</remarks>
    /// <param name="inputs">The samples one after another, rows × input size values, row-major.</param>
    /// <param name="targets">The targets one row after another, rows × output size values, row-major.</param>
    /// <param name="options">Epochs, batch size, shuffling, seed, validation, early stopping and clipping; the defaults of <see cref="FitOptions"/> when null.</param>
    /// <param name="validation">Held-out data evaluated after every epoch; when null, <see cref="FitOptions.ValidationFraction"/> of the data is held out instead (if above 0).</param>
    /// <param name="cancellationToken">Stops training between two batches with <see cref="OperationCanceledException"/>; the network keeps the weights of the last finished step.</param>
    /// <returns>Every epoch's losses and accuracies, and how training ended.</returns>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> is empty or not a whole number of rows of the input size, <paramref name="targets"/> does not hold as many rows of the output size, a value is not finite (the message names its row and column), a target is outside the loss's domain, or the validation split leaves a side empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The network is already being trained by another call, the learning-rate schedule gave a rate that is not finite and positive, or an <see cref="EarlyStopping"/> monitors a metric the epochs do not record.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient became NaN or infinite; the weights are those before the failing step.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingHistory Fit(ReadOnlyMemory<T> inputs, ReadOnlyMemory<T> targets, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default) =>
        FitOn(options, d => d.FromTargets(inputs, targets, nameof(inputs), nameof(targets)), validation, cancellationToken);

    /// <summary>Trains a classifier on row-major samples with integer class labels and a weight per sample, reading the
    /// samples where they are, as <see cref="Fit(ReadOnlyMemory{T}, int[], FitOptions?, ValidationData{T}?, CancellationToken)"/> does.</summary>
    /// <param name="inputs">The samples one after another, rows × input size values, row-major; not to be changed until the call returns.</param>
    /// <param name="labels">One class per row, as for the unweighted <c>Fit</c>.</param>
    /// <param name="sampleWeights">One weight per row, finite and at least 0, not all 0; multiplied by
    /// <see cref="FitOptions.ClassWeights"/> when those are set.</param>
    /// <param name="options">The training settings; the defaults of <see cref="FitOptions"/> when null.</param>
    /// <param name="validation">Held-out data evaluated after every epoch (with its own <see cref="ValidationData{T}.SampleWeights"/>, if any);
    /// when null, <see cref="FitOptions.ValidationFraction"/> of the data, with its weights, is held out instead (stratified by class).</param>
    /// <param name="cancellationToken">Stops training between two batches with <see cref="OperationCanceledException"/>.</param>
    /// <returns>Every epoch's losses (weighted) and accuracies, and how training ended.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="labels"/> or <paramref name="sampleWeights"/> is null.</exception>
    /// <exception cref="ArgumentException">As for the unweighted <c>Fit</c>, or <paramref name="sampleWeights"/> does not have one finite, non-negative weight per row, or they are all 0.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label or an option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The network is already being trained by another call, or the learning-rate schedule gave a rate that is not finite and positive.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient became NaN or infinite; the weights are those before the failing step.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingHistory Fit(ReadOnlyMemory<T> inputs, int[] labels, double[] sampleWeights, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default) =>
        FitOn(options, d => TrainingSetBuilder<T>.WithWeights(d.FromLabels(inputs, labels, nameof(inputs), nameof(labels)), sampleWeights, nameof(sampleWeights)), validation, cancellationToken);

    /// <summary>Trains on row-major samples and target rows with a weight per sample, reading both where they are, as
    /// <see cref="Fit(ReadOnlyMemory{T}, ReadOnlyMemory{T}, FitOptions?, ValidationData{T}?, CancellationToken)"/> does.</summary>
    /// <param name="inputs">The samples one after another, rows × input size values, row-major; not to be changed until the call returns.</param>
    /// <param name="targets">The targets one row after another, rows × output size values, row-major; not to be changed until the call returns.</param>
    /// <param name="sampleWeights">One weight per row, finite and at least 0, not all 0; multiplied by
    /// <see cref="FitOptions.ClassWeights"/> when those are set.</param>
    /// <param name="options">The training settings; the defaults of <see cref="FitOptions"/> when null.</param>
    /// <param name="validation">Held-out data evaluated after every epoch (with its own <see cref="ValidationData{T}.SampleWeights"/>, if any);
    /// when null, <see cref="FitOptions.ValidationFraction"/> of the data, with its weights, is held out instead.</param>
    /// <param name="cancellationToken">Stops training between two batches with <see cref="OperationCanceledException"/>.</param>
    /// <returns>Every epoch's losses (weighted) and accuracies, and how training ended.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="sampleWeights"/> is null.</exception>
    /// <exception cref="ArgumentException">As for the unweighted <c>Fit</c>, or <paramref name="sampleWeights"/> does not have one finite, non-negative weight per row, or they are all 0.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">The network is already being trained by another call, or the learning-rate schedule gave a rate that is not finite and positive.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient became NaN or infinite; the weights are those before the failing step.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingHistory Fit(ReadOnlyMemory<T> inputs, ReadOnlyMemory<T> targets, double[] sampleWeights, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default) =>
        FitOn(options, d => TrainingSetBuilder<T>.WithWeights(d.FromTargets(inputs, targets, nameof(inputs), nameof(targets)), sampleWeights, nameof(sampleWeights)), validation, cancellationToken);

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

    /// <summary>Runs <see cref="Fit(ReadOnlyMemory{T}, ReadOnlyMemory{T}, FitOptions?, ValidationData{T}?, CancellationToken)"/>
    /// on the thread pool: the memory is read in place until the task completes, and must not change before then.</summary>
    /// <param name="inputs">The samples one after another, rows × input size values, row-major.</param>
    /// <param name="targets">The targets one row after another, rows × output size values, row-major.</param>
    /// <param name="options">The training settings; the defaults of <see cref="FitOptions"/> when null.</param>
    /// <param name="validation">Held-out data evaluated after every epoch, or null.</param>
    /// <param name="cancellationToken">Stops training between two batches.</param>
    /// <returns>A task whose result is the training history; it faults with the exceptions <c>Fit</c> documents.</returns>
    public Task<TrainingHistory> FitAsync(ReadOnlyMemory<T> inputs, ReadOnlyMemory<T> targets, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Fit(inputs, targets, options, validation, cancellationToken), cancellationToken);

    /// <summary>Runs <see cref="Fit(ReadOnlyMemory{T}, int[], FitOptions?, ValidationData{T}?, CancellationToken)"/> on the
    /// thread pool: the memory is read in place until the task completes, and must not change before then.</summary>
    /// <param name="inputs">The samples one after another, rows × input size values, row-major.</param>
    /// <param name="labels">One class per row.</param>
    /// <param name="options">The training settings; the defaults of <see cref="FitOptions"/> when null.</param>
    /// <param name="validation">Held-out data evaluated after every epoch, or null.</param>
    /// <param name="cancellationToken">Stops training between two batches.</param>
    /// <returns>A task whose result is the training history; it faults with the exceptions <c>Fit</c> documents.</returns>
    public Task<TrainingHistory> FitAsync(ReadOnlyMemory<T> inputs, int[] labels, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Fit(inputs, labels, options, validation, cancellationToken), cancellationToken);

    /// <summary>Computes the loss of the network on a data set without training, batch by batch.</summary>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="targets">The targets, rows × output size.</param>
    /// <returns>The loss over the whole set (for a mean loss, the mean over all of it), plus the layers' regularisation
    /// penalties if any: the objective that training minimises.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A matrix has the wrong shape or a non-finite value.</exception>
    public double Evaluate(Matrix<T> inputs, Matrix<T> targets) =>
        Evaluator.Score(Data.FromTargets(inputs, targets, nameof(inputs), nameof(targets))).Loss;

    /// <summary>Computes the loss of the network on row-major samples and targets without training, reading both where
    /// they are (no copy), with the result <see cref="Evaluate(Matrix{T}, Matrix{T})"/> gives on the same rows.</summary>
    /// <param name="inputs">The samples one after another, rows × input size values, row-major.</param>
    /// <param name="targets">The targets one row after another, rows × output size values, row-major.</param>
    /// <returns>The loss over the whole set plus the layers' regularisation penalties.</returns>
    /// <exception cref="ArgumentException">The lengths are not whole rows of the same count, or a value is not finite (the
    /// message names its row and column).</exception>
    public double Evaluate(ReadOnlyMemory<T> inputs, ReadOnlyMemory<T> targets) =>
        Evaluator.Score(Data.FromTargets(inputs, targets, nameof(inputs), nameof(targets))).Loss;

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
        Evaluator.Measure(Data.FromTargets(inputs, targets, nameof(inputs), nameof(targets)));

    /// <summary>Evaluates a classifier on a data set with integer class labels without training: the loss, and the
    /// classification metrics (see <see cref="EvaluationResult"/>).</summary>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="labels">One class per row, as for <see cref="Fit(Matrix{T}, int[], FitOptions?, ValidationData{T}?, CancellationToken)"/>.</param>
    /// <returns>The loss and the metrics.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The counts of rows and labels differ, or a value is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside [0, output size) (outside {0, 1} for a binary classifier).</exception>
    public EvaluationResult EvaluateMetrics(Matrix<T> inputs, int[] labels) =>
        Evaluator.Measure(Data.FromLabels(inputs, labels, nameof(inputs), nameof(labels)));

    /// <summary>Evaluates the network on row-major samples and targets without training, reading both where they are
    /// (no copy): the result <see cref="EvaluateMetrics(Matrix{T}, Matrix{T})"/> gives on the same rows.</summary>
    /// <param name="inputs">The samples one after another, rows × input size values, row-major.</param>
    /// <param name="targets">The targets one row after another, rows × output size values, row-major.</param>
    /// <returns>The loss and the metrics.</returns>
    /// <exception cref="ArgumentException">The lengths are not whole rows of the same count, a value is not finite, or a
    /// target is outside the loss's domain.</exception>
    public EvaluationResult EvaluateMetrics(ReadOnlyMemory<T> inputs, ReadOnlyMemory<T> targets) =>
        Evaluator.Measure(Data.FromTargets(inputs, targets, nameof(inputs), nameof(targets)));

    /// <summary>Evaluates a classifier on row-major samples with integer class labels without training, reading the
    /// samples where they are (no copy): the result <see cref="EvaluateMetrics(Matrix{T}, int[])"/> gives on the same rows.</summary>
    /// <param name="inputs">The samples one after another, rows × input size values, row-major; the number of rows is
    /// the number of labels.</param>
    /// <param name="labels">One class per row.</param>
    /// <returns>The loss and the metrics.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="labels"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> does not hold labels × input size values, or a value is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside [0, output size) (outside {0, 1} for a binary classifier).</exception>
    public EvaluationResult EvaluateMetrics(ReadOnlyMemory<T> inputs, int[] labels) =>
        Evaluator.Measure(Data.FromLabels(inputs, labels, nameof(inputs), nameof(labels)));
}
