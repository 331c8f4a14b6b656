using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>
/// The epoch loop of <c>Fit</c>, around a trainer's four steps: mini-batches from a <see cref="BatchFeeder{T}"/>, the
/// learning-rate schedule, observers and their stop requests, validation after every epoch, progress, cancellation and
/// the history. The steps themselves, with the gradients' health check and clipping, are the trainer's
/// (<see cref="Trainer{T}.StepCore"/>).
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
internal sealed class FitLoop<T>(Trainer<T> trainer)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private Network<T> Network => trainer.Network;

    /// <summary>Trains on data held in memory, holding out <see cref="FitOptions.ValidationFraction"/> of it when no
    /// validation data is given.</summary>
    public TrainingHistory Run(TrainingSet<T> data, TrainingSet<T>? validation, FitOptions options, CancellationToken cancellationToken)
    {
        if (validation is null && options.ValidationFraction > 0)
        {
            (data, validation) = trainer.Data.HoldOut(data, options.ValidationFraction, options.Seed);
        }

        var feeder = new InMemoryFeeder<T>(Network.InputSize, Network.OutputSize, options.Shuffle, options.Seed)
        {
            Gather = GatherModeFor(Math.Min(options.BatchSize, data.Rows)),
            Context = Network.Context,
        };
        feeder.SetRows(data.X, data.Y, data.Classes, data.Rows, data.Index);
        feeder.SetWeights(options.ClassWeights is null ? data.Weights : options.ClassWeights.Apply(data.Weights, data.Classes, Network.OutputSize == 1 ? 2 : Network.OutputSize, data.Rows));
        return Run(feeder, validation, options, cancellationToken, data.Mode);
    }

    /// <summary>How batches of <paramref name="rows"/> rows are best copied: by both threads when the step's products
    /// are split across them, by the otherwise idle worker in the background when the products stay on one thread, and
    /// by the training thread alone when the network may use one thread.</summary>
    private GatherMode GatherModeFor(int rows)
    {
        ComputeContext context = Network.Context;
        if (context.PartsFor(Network.MaxDegreeOfParallelism) < 2)
        {
            return GatherMode.Caller;
        }

        // Each layer states its forward cost per sample (for a dense layer 2·inputs·units, which its weight gradient
        // costs too); its products are split when that cost over the batch passes the context's threshold.
        bool split = Network.Layers.Any(l => context.WouldSplit(rows * l.FlopsPerSample));
        return split ? GatherMode.Shared : GatherMode.Background;
    }

    /// <summary>Runs the epochs with the network marked as being trained, and releases the feeder however they end.
    /// <paramref name="mode"/> says how the training accuracy is scored; by default, as a source's data: classes when it has them.</summary>
    public TrainingHistory Run(BatchFeeder<T> feeder, TrainingSet<T>? validation, FitOptions options, CancellationToken cancellationToken, AccuracyMode? mode = null)
    {
        using (feeder)
        using (Network.HoldForTraining())
        {
            return RunEpochs(feeder, validation, options, cancellationToken, mode ?? trainer.Data.ModeFor(feeder.HasClasses, feeder.HasClasses));
        }
    }

    /// <summary>The epoch loop, the same for in-memory and streamed data: the feeder gives each epoch's batches.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private TrainingHistory RunEpochs(BatchFeeder<T> feeder, TrainingSet<T>? validation, FitOptions options, CancellationToken cancellationToken, AccuracyMode mode)
    {
        var history = new TrainingHistory();
        var evaluator = trainer.Evaluator;
        int[] classes = [];

        // An array, so that the loops below index it without an enumerator; the options' early stopping is a fresh copy
        // for this run, so that options holding it stay shareable.
        ITrainingObserver[] observers = options.EarlyStopping is { } early
            ? [.. options.Observers, early.ForRun()]
            : [.. options.Observers];
        int inputWidth = Network.InputSize, outputWidth = Network.OutputSize;
        var schedule = options.LearningRateSchedule;
        double baseLearningRate = trainer.BaseLearningRate;
        int firstEpoch = trainer.EpochsCompleted + 1, lastEpoch = trainer.EpochsCompleted + options.Epochs;
        var context = new TrainingContext<T>(trainer, history, firstEpoch, lastEpoch);
        for (int o = 0; o < observers.Length; o++)
        {
            observers[o].OnTrainBegin(context);
        }

        for (int epoch = firstEpoch; epoch <= lastEpoch && !context.StopRequested; epoch++)
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

                trainer.Optimizer.LearningRate = scheduled;
            }

            double learningRate = trainer.Optimizer.LearningRate;
            for (int o = 0; o < observers.Length; o++)
            {
                observers[o].OnEpochBegin(epoch);
            }

            // The feeder orders the epoch from the seed and the epoch's number alone: a resumed run visits the samples
            // exactly as an uninterrupted one.
            int batchSize = Math.Min(options.BatchSize, feeder.BeginEpoch(epoch));
            var pass = trainer.FitPass(batchSize);
            if (feeder.HasClasses && classes.Length < batchSize)
            {
                classes = new int[batchSize];
            }

            if (feeder is InMemoryFeeder<T> inMemory)
            {
                // It may hand a batch over by exchanging the pass's input array: the loop reads the input from the pass.
                inMemory.Pass = pass;
            }

            var batchTargets = pass.Targets.AsSpan(0, batchSize * outputWidth);
            var batchClasses = feeder.HasClasses ? classes.AsSpan(0, batchSize) : default;
            double total = 0;
            var tally = new DecisionTally();
            long rows = 0;
            double weightTotal = 0;
            int batch = 0, count;
            while ((count = feeder.NextBatch(pass.Input.AsSpan(0, batchSize * inputWidth), batchTargets, batchClasses)) > 0)
            {
                // Before every step; copying the batch into the pass before it changes nothing a caller can see.
                cancellationToken.ThrowIfCancellationRequested();
                batch++;
                for (int o = 0; o < observers.Length; o++)
                {
                    observers[o].OnBatchBegin(epoch, batch);
                }

                pass.SampleWeights = feeder.BatchWeights;
                double loss = trainer.FitStep is { } step
                    ? step(pass, count, epoch, batch, options.MaxGradientNorm)
                    : trainer.StepCore(pass, count, epoch, batch, options.MaxGradientNorm);

                // The step leaves the forward pass's outputs in place: they are the pre-update predictions.
                evaluator.Tally(ref tally, pass, count, mode, mode == AccuracyMode.ArgMax ? batchClasses[..count] : default);

                total += loss * trainer.BatchWeight(pass);
                rows += count;
                weightTotal += pass.WeightTotal();
                for (int o = 0; o < observers.Length; o++)
                {
                    observers[o].OnBatchEnd(epoch, batch, loss);
                }
            }

            double epochLoss = trainer.Loss.Reduction == LossReduction.Sum ? total : total / weightTotal;
            EvaluationScores? validated = validation is null ? null : evaluator.Score(validation);
            var result = new EpochResult(epoch, epochLoss, validated?.Loss,
                tally.Accuracy(mode, rows), validated?.Accuracy, learningRate, Stopwatch.GetElapsedTime(started))
            {
                HammingAccuracy = tally.HammingAccuracy(mode, rows, outputWidth),
                ValidationHammingAccuracy = validated?.HammingAccuracy,
            };
            history.Add(result);
            trainer.EpochsCompleted = epoch;
            for (int o = 0; o < observers.Length; o++)
            {
                observers[o].OnEpochEnd(result);
            }

            options.Progress?.Report(result);
            schedule?.OnEpochEnd(epoch, validated?.Loss ?? epochLoss);
        }

        history.StoppedEarly = context.StopRequested && trainer.EpochsCompleted < lastEpoch;
        for (int o = 0; o < observers.Length; o++)
        {
            observers[o].OnTrainEnd(context);
        }

        return history;
    }
}
