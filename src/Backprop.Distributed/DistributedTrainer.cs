using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Backprop.Data;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Distributed;

/// <summary>
/// Data-parallel training: every process of a <see cref="Communicator"/> (the processes <c>mpiexec -n N</c> started)
/// holds the same network and the same data, and each global batch of <see cref="FitOptions.BatchSize"/> rows is computed
/// by the processes together, with weights bit-identical to one process training on the same global batches.
/// </summary>
/// <remarks>
/// <para>At the start of every <c>Fit</c> the processes compare what they built (network, loss, optimizer, data shape and
/// options; a hash of each, gathered from every process) and fail together, naming the ranks that differ from rank 0;
/// then rank 0's weights are broadcast.</para>
/// <para>Each step: the global batch (the same rows on every process: the same shuffle from the same seed) is cut into
/// <see cref="GradientShards"/> shards S of ⌊k·B/S⌋…⌊(k+1)·B/S⌋ rows; rank r computes shards ⌊r·S/N⌋…⌊(r+1)·S/N⌋ with
/// the trainer's own steps; the shards' gradients, each weighted by its share of the batch (rows, or Σ sample weights,
/// over the batch's; 1 for a summed loss), are added left to right in shard order, passed from rank to rank, and the last
/// rank broadcasts the total; every process then clips it and runs the same update. The number of shards, not the number
/// of processes, fixes every rounding, so 1, 2, 3, … processes give the same weights bit for bit. "One process" is this
/// trainer with <see cref="Communicator.SingleProcess"/> (or <c>mpiexec -n 1</c>) and the same shards; with one shard it
/// is plain <see cref="Trainer{T}.Fit(Matrix{T}, Matrix{T}, FitOptions?, ValidationData{T}?, CancellationToken)"/>.</para>
/// <para>Dropout draws the same masks as one process (each process draws past the rows it does not compute).
/// <see cref="BatchNorm{T}"/> is refused: its batch statistics would be those of a shard. A summed loss
/// (<see cref="LossReduction.Sum"/>) with a weight penalty is refused: the penalty would count once per shard.
/// Bit-identity also needs the same CPU kernels on every process (the same kind of machine).</para>
/// <para>Every process reads all the data (matrices, or the whole <see cref="ISampleSource{T}"/> through the same shuffle
/// buffer) and computes only its shards; validation is evaluated whole by every process.</para>
/// <para>Failures: an exception on one process while the others wait in a collective is written to the standard error
/// with the rank, then every process is ended with <see cref="Communicator.Abort"/> (exit code 1), when
/// <see cref="AbortOnFailure"/> is set (the default). Failures every process sees alike (a mismatch at the start, a
/// diverged loss or gradient) are thrown on every process instead.</para>
/// <para>Thread safety: as <see cref="Trainer{T}"/>.</para>
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class DistributedTrainer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The default number of gradient shards: 12, divisible by 1, 2, 3, 4 and 6 processes.</summary>
    public const int DefaultGradientShards = 12;

    private readonly DataParallelStep<T> _step;

    /// <summary>Creates a data-parallel trainer around a trainer that every process built alike.</summary>
    /// <param name="trainer">This process's trainer: the same network, loss and optimizer on every process.</param>
    /// <param name="communicator">The processes training together: <see cref="Mpi.World"/>, or <see cref="Communicator.SingleProcess"/>.</param>
    /// <param name="gradientShards">The number of shards each global batch is cut into, the same on every process; process
    /// counts that divide it balance the work. Results depend on it (not on the process count).</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="gradientShards"/> is less than 1.</exception>
    /// <exception cref="NotSupportedException">The network has a <see cref="BatchNorm{T}"/> layer, or the loss is summed
    /// (<see cref="LossReduction.Sum"/>) and a layer has a weight penalty.</exception>
    public DistributedTrainer(Trainer<T> trainer, Communicator communicator, int gradientShards = DefaultGradientShards)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(communicator);
        if (gradientShards < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(gradientShards), gradientShards, $"gradientShards must be at least 1, but it is {gradientShards}.");
        }

        if (DataParallelStep<T>.AllLayers(trainer.Network.Layers).FirstOrDefault(l => l is BatchNorm<T>) is { } batchNorm)
        {
            throw new NotSupportedException(
                $"The network has a batch-normalisation layer ({batchNorm}): data-parallel training would normalise each gradient shard by its own statistics, unlike one process. Use LayerNorm, or train on one process.");
        }

        if (trainer.Loss.Reduction == LossReduction.Sum && trainer.Network.RegularizationPenalty() != 0)
        {
            throw new NotSupportedException(
                $"The loss ({trainer.Loss}) is summed and a layer has a weight penalty: each gradient shard would add the penalty once. Use a mean loss, or no L1/L2 penalty, for data-parallel training.");
        }

        Trainer = trainer;
        Communicator = communicator;
        GradientShards = gradientShards;
        _step = new DataParallelStep<T>(trainer, communicator, gradientShards);
    }

    /// <summary>This process's trainer.</summary>
    public Trainer<T> Trainer { get; }

    /// <summary>The processes training together.</summary>
    public Communicator Communicator { get; }

    /// <summary>The number of shards each global batch is cut into.</summary>
    public int GradientShards { get; }

    /// <summary>The time this process has spent, over all its <c>Fit</c> calls, between computing its shards and holding
    /// the summed gradient: the collectives, waiting for slower processes, and adding the running sum. The rest of a
    /// step is computing.</summary>
    public TimeSpan CommunicationTime => Stopwatch.GetElapsedTime(0, _step.CommunicationTicks);

    /// <summary>Whether this process is rank 0: the one that writes checkpoints, and the one to print from.</summary>
    public bool IsRoot => Communicator.Rank == 0;

    /// <summary>Whether a failure on one process ends every process (<see cref="Communicator.Abort"/>, exit code 1) rather
    /// than leaving the others waiting for it; true by default.</summary>
    public bool AbortOnFailure { get; init; } = true;

    /// <summary>Trains on a data set with target rows that every process holds, as
    /// <see cref="Trainer{T}.Fit(Matrix{T}, Matrix{T}, FitOptions?, ValidationData{T}?, CancellationToken)"/>.</summary>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="targets">The targets, rows × output size.</param>
    /// <param name="options">The training settings, the same on every process; the defaults when null.</param>
    /// <param name="validation">Held-out data, evaluated whole by every process; or null.</param>
    /// <param name="cancellationToken">Stops training between two batches; cancel it on every process alike.</param>
    /// <returns>The history, the same on every process.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="InvalidOperationException">A process built another network, loss, optimizer, data shape or options
    /// than rank 0 (thrown on every process, naming the ranks).</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient became NaN or infinite (on every process).</exception>
    public TrainingHistory Fit(Matrix<T> inputs, Matrix<T> targets, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default) =>
        Run(Shape(inputs, targets, null), options, validation, () => Trainer.Fit(inputs, targets, options, validation, cancellationToken));

    /// <summary>Trains a classifier on class labels that every process holds, as
    /// <see cref="Trainer{T}.Fit(Matrix{T}, int[], FitOptions?, ValidationData{T}?, CancellationToken)"/>.</summary>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="labels">One class per row.</param>
    /// <param name="options">The training settings, the same on every process; the defaults when null.</param>
    /// <param name="validation">Held-out data, evaluated whole by every process; or null.</param>
    /// <param name="cancellationToken">Stops training between two batches; cancel it on every process alike.</param>
    /// <returns>The history, the same on every process.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="InvalidOperationException">A process built another network, loss, optimizer, data shape or options
    /// than rank 0 (thrown on every process, naming the ranks).</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient became NaN or infinite (on every process).</exception>
    public TrainingHistory Fit(Matrix<T> inputs, int[] labels, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default) =>
        Run(Shape(inputs, null, labels), options, validation, () => Trainer.Fit(inputs, labels, options, validation, cancellationToken));

    /// <summary>Trains on target rows with a weight per sample, as
    /// <see cref="Trainer{T}.Fit(Matrix{T}, Matrix{T}, double[], FitOptions?, ValidationData{T}?, CancellationToken)"/>.</summary>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="targets">The targets, rows × output size.</param>
    /// <param name="sampleWeights">One weight per row.</param>
    /// <param name="options">The training settings, the same on every process; the defaults when null.</param>
    /// <param name="validation">Held-out data, evaluated whole by every process; or null.</param>
    /// <param name="cancellationToken">Stops training between two batches; cancel it on every process alike.</param>
    /// <returns>The history, the same on every process.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="InvalidOperationException">A process built another network, loss, optimizer, data shape or options
    /// than rank 0 (thrown on every process, naming the ranks).</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient became NaN or infinite (on every process).</exception>
    public TrainingHistory Fit(Matrix<T> inputs, Matrix<T> targets, double[] sampleWeights, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default) =>
        Run(Shape(inputs, targets, null) + $", {sampleWeights?.Length} weights", options, validation, () => Trainer.Fit(inputs, targets, sampleWeights!, options, validation, cancellationToken));

    /// <summary>Trains a classifier on class labels with a weight per sample, as
    /// <see cref="Trainer{T}.Fit(Matrix{T}, int[], double[], FitOptions?, ValidationData{T}?, CancellationToken)"/>.</summary>
    /// <param name="inputs">The samples, rows × input size.</param>
    /// <param name="labels">One class per row.</param>
    /// <param name="sampleWeights">One weight per row.</param>
    /// <param name="options">The training settings, the same on every process; the defaults when null.</param>
    /// <param name="validation">Held-out data, evaluated whole by every process; or null.</param>
    /// <param name="cancellationToken">Stops training between two batches; cancel it on every process alike.</param>
    /// <returns>The history, the same on every process.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="InvalidOperationException">A process built another network, loss, optimizer, data shape or options
    /// than rank 0 (thrown on every process, naming the ranks).</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient became NaN or infinite (on every process).</exception>
    public TrainingHistory Fit(Matrix<T> inputs, int[] labels, double[] sampleWeights, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default) =>
        Run(Shape(inputs, null, labels) + $", {sampleWeights?.Length} weights", options, validation, () => Trainer.Fit(inputs, labels, sampleWeights!, options, validation, cancellationToken));

    /// <summary>Trains on samples streamed from a source that every process opens, as
    /// <see cref="Trainer{T}.Fit(ISampleSource{T}, FitOptions?, ValidationData{T}?, CancellationToken)"/>: every process
    /// reads the whole stream through the same shuffle buffer and computes its own shards of each batch.</summary>
    /// <param name="source">The source, the same data on every process.</param>
    /// <param name="options">The training settings, the same on every process; the defaults when null.</param>
    /// <param name="validation">Held-out data, evaluated whole by every process; or null.</param>
    /// <param name="cancellationToken">Stops training between two batches; cancel it on every process alike.</param>
    /// <returns>The history, the same on every process.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="InvalidOperationException">A process built another network, loss, optimizer, data shape or options
    /// than rank 0 (thrown on every process, naming the ranks).</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient became NaN or infinite (on every process).</exception>
    public TrainingHistory Fit(ISampleSource<T> source, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default) =>
        Run(source is null ? "no source" : $"source {source.Name}: {source.InputSize} inputs, {source.OutputSize} outputs, classes {source.HasClasses}",
            options, validation, () => Trainer.Fit(source!, options, validation, cancellationToken));

    /// <summary>Writes a checkpoint from rank 0 only (atomically, with <see cref="Trainer{T}.SaveCheckpoint(string)"/>), then
    /// waits until every process gets here. Every process must call it. Resume on any number of processes by loading it
    /// on each (<see cref="Trainer{T}.LoadCheckpoint(string)"/>; the file must be readable by every process).</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <exception cref="IOException">Rank 0 cannot write the file; the previous file, if any, is left as it was.</exception>
    public void SaveCheckpoint(string path)
    {
        if (IsRoot)
        {
            Trainer.SaveCheckpoint(path);
        }

        Communicator.Barrier();
    }

    /// <summary>An observer that writes a checkpoint (<see cref="SaveCheckpoint"/>) after every epoch: add it to
    /// <see cref="FitOptions.Observers"/> on every process.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <returns>The observer.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    public ITrainingObserver CheckpointEveryEpoch(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new CheckpointObserver(this, path);
    }

    /// <summary>A digest of the network's weights (SHA-256 of their bytes, hexadecimal): equal digests on two processes or
    /// runs mean bit-identical weights.</summary>
    /// <returns>64 hexadecimal digits.</returns>
    public string WeightDigest()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var parameter in DataParallelStep<T>.UniqueParameters(Trainer.Network))
        {
            hash.AppendData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(parameter.Values));
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    private static string Shape(Matrix<T> inputs, Matrix<T>? targets, int[]? labels) =>
        string.Create(CultureInfo.InvariantCulture,
            $"inputs {inputs?.RowCount}×{inputs?.ColumnCount}, {(labels is null ? $"targets {targets?.RowCount}×{targets?.ColumnCount}" : $"{labels.Length} labels")}");

    private TrainingHistory Run(string data, FitOptions? options, ValidationData<T>? validation, Func<TrainingHistory> fit)
    {
        try
        {
            CheckSameEverywhere(data, options, validation);
            BroadcastWeights();
            Trainer.FitStep = _step.Step;
            try
            {
                return fit();
            }
            finally
            {
                Trainer.FitStep = null;
            }
        }
        catch (Exception e) when (AbortOnFailure && Communicator.Size > 1 && e is not (DistributedMismatchException or TrainingDivergedException))
        {
            Console.Error.WriteLine($"Backprop.Distributed: rank {Communicator.Rank} of {Communicator.Size} failed; ending every process. {e}");
            Console.Error.Flush();
            Communicator.Abort(1);
            throw;
        }
    }

    /// <summary>Gathers a hash of the network, the data and the options from every process and throws on all of them,
    /// naming the ranks, when one differs from rank 0's.</summary>
    private void CheckSameEverywhere(string data, FitOptions? options, ValidationData<T>? validation)
    {
        var network = Trainer.Network;
        var model = new StringBuilder();
        model.Append(CultureInfo.InvariantCulture, $"{typeof(T).Name} {network}; loss {Trainer.Loss}; optimizer {Trainer.Optimizer}; epochs done {Trainer.EpochsCompleted}; shards {GradientShards}");
        foreach (var layer in network.Layers)
        {
            model.Append(CultureInfo.InvariantCulture, $"; {layer} {layer.InputSize}→{layer.OutputSize}:");
            foreach (var parameter in layer.Parameters)
            {
                model.Append(CultureInfo.InvariantCulture, $" {parameter.Name}[{parameter.Length}]");
            }
        }

        var o = options ?? new FitOptions();
        string settings = string.Create(CultureInfo.InvariantCulture,
            $"epochs {o.Epochs}, batch {o.BatchSize}, shuffle {o.Shuffle}, seed {o.Seed}, validation fraction {o.ValidationFraction}, buffer {o.ShuffleBufferSize}, max norm {o.MaxGradientNorm}, schedule {o.LearningRateSchedule}, early stopping {o.EarlyStopping is not null}, class weights {o.ClassWeights}");
        string dataShape = data + (validation switch
        {
            null => ", no validation",
            { IsRowMajor: true } => string.Create(CultureInfo.InvariantCulture, $", validation {validation.RowMajorInputs.Length} values row-major"),
            _ => string.Create(CultureInfo.InvariantCulture, $", validation {validation.Inputs!.RowCount}×{validation.Inputs.ColumnCount}"),
        });
        string[] parts = [model.ToString(), dataShape, settings];
        string[] names = ["network (layers, loss, optimizer, epochs done, shards)", "data shape", "training options"];
        Span<long> mine = stackalloc long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            mine[i] = BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes(parts[i])), 0);
        }

        var all = new long[parts.Length * Communicator.Size];
        Communicator.AllGather<long>(mine, all);
        var differences = new List<string>();
        for (int rank = 1; rank < Communicator.Size; rank++)
        {
            for (int i = 0; i < parts.Length; i++)
            {
                if (all[(rank * parts.Length) + i] != all[i])
                {
                    differences.Add($"rank {rank}'s {names[i]}");
                }
            }
        }

        if (differences.Count > 0)
        {
            throw new DistributedMismatchException(
                $"The processes did not build the same training; unlike rank 0's: {string.Join(", ", differences)}. This process (rank {Communicator.Rank}) has: {string.Join(" | ", parts)}.");
        }
    }

    /// <summary>Copies rank 0's weights to every process.</summary>
    private void BroadcastWeights()
    {
        foreach (var parameter in DataParallelStep<T>.UniqueParameters(Trainer.Network))
        {
            Communicator.Broadcast(parameter.Values, root: 0);
        }
    }

    private sealed class CheckpointObserver(DistributedTrainer<T> owner, string path) : ITrainingObserver
    {
        public void OnEpochEnd(EpochResult result) => owner.SaveCheckpoint(path);

        public override string ToString() => $"checkpoint every epoch to {path}";
    }
}

/// <summary>The processes of a distributed run did not build the same network, data or options: thrown on every process,
/// naming the ranks that differ from rank 0.</summary>
public sealed class DistributedMismatchException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What differs, and on which ranks.</param>
    public DistributedMismatchException(string message)
        : base(message)
    {
    }
}
