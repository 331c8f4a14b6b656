using System.Numerics;
using System.Runtime.CompilerServices;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop;

/// <summary>How a data set's accuracy is scored, from the network, the loss and the form of its targets.</summary>
internal enum AccuracyMode
{
    /// <summary>Not at all: regression targets.</summary>
    None,

    /// <summary>The arg-max output against the row's class.</summary>
    ArgMax,

    /// <summary>The one output above the decision threshold against the 0/1 target.</summary>
    Binary,

    /// <summary>Every output above the decision threshold against its 0/1 target: exact match and Hamming.</summary>
    MultiLabel,
}

/// <summary>A data set's objective and accuracies, as the training history records them.</summary>
internal readonly record struct EvaluationScores(double Loss, double? Accuracy, double? HammingAccuracy);

/// <summary>
/// Evaluates a trainer's network on a data set in inference mode, chunk by chunk in a pass kept from call to call: the
/// objective and the accuracies the training history records (for <c>Fit</c>'s validation and
/// <see cref="Trainer{T}.Evaluate(Matrix{T}, Matrix{T})"/>), and the metrics of <see cref="Trainer{T}.EvaluateMetrics(Matrix{T}, Matrix{T})"/>.
/// </summary>
/// <typeparam name="T">The element type.</typeparam>
internal sealed class Evaluator<T>(Trainer<T> trainer)
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private const int EvaluationChunk = 256;

    private ForwardPass<T>? _pass;

    private Network<T> Network => trainer.Network;

    private ILossFunction Loss => trainer.Loss;

    /// <summary>Whether the outputs are logits, for reading them as yes/no decisions; a sigmoid's outputs are probabilities.</summary>
    private bool DecidesOnLogits => Loss is IBinaryLoss { TakesLogits: true };

    /// <summary>The output value above which a yes/no output says yes: 0 on logits, 0.5 on probabilities.</summary>
    public T DecisionCut => DecidesOnLogits ? T.Zero : T.CreateChecked(0.5);

    /// <summary>The objective (loss plus penalties) and, for class targets, the accuracies of the network on a data set,
    /// in inference mode; <paramref name="outputs"/>, when given, receives every row's outputs.</summary>
    public EvaluationScores Score(TrainingSet<T> data, T[]? outputs = null)
    {
        int rows = data.Rows, chunk = Math.Min(rows, EvaluationChunk), width = Network.OutputSize;
        if (_pass is null || _pass.Capacity < chunk)
        {
            // Kept for the next epoch's evaluation: a pass holds every layer's buffers, 220 KB for the digits network.
            _pass = new ForwardPass<T>(Network, chunk);
        }

        var pass = _pass;
        System.Diagnostics.Debug.Assert(data.Index is null, "Evaluated sets are contiguous: only training rows are read through an index.");
        double total = 0, weightTotal = 0;
        var tally = new DecisionTally();
        for (int start = 0; start < rows; start += chunk)
        {
            int count = Math.Min(chunk, rows - start);
            data.X.Span.Slice(start * Network.InputSize, count * Network.InputSize).CopyTo(pass.Input);
            data.Y.Span.Slice(start * width, count * width).CopyTo(pass.Targets);
            trainer.ForwardCore(pass, count, training: false);
            pass.SampleWeights = data.Weights is null ? default : data.Weights.AsMemory(start, count);
            total += trainer.DataLossCore(pass) * trainer.BatchWeight(pass);
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Tally(ref DecisionTally tally, ForwardPass<T> pass, int count, AccuracyMode mode, ReadOnlySpan<int> classes)
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    /// <summary>The loss and the metrics of <paramref name="data"/>'s kind.</summary>
    public EvaluationResult Measure(TrainingSet<T> data)
    {
        int rows = data.Rows, width = Network.OutputSize;
        var outputs = new T[rows * width];
        var scores = Score(data, outputs);
        return data.Mode switch
        {
            AccuracyMode.Binary => MeasureBinary(data, outputs, scores),
            AccuracyMode.MultiLabel => MeasureMultiLabel(data, outputs, scores),
            AccuracyMode.ArgMax => MeasureMultiClass(data, outputs, scores),
            _ => MeasureRegression(data, outputs, scores),
        };
    }

    private EvaluationResult MeasureBinary(TrainingSet<T> data, T[] outputs, EvaluationScores scores)
    {
        if (data.Classes is not { } classes)
        {
            return new EvaluationResult(PredictionKind.Binary, data.Rows, scores.Loss);
        }

        var probabilities = Probabilities(outputs);
        T cut = DecisionCut;
        var predicted = outputs.Select(o => o > cut ? 1 : 0).ToArray();
        var confusion = new ConfusionMatrix(classes, predicted, 2);
        var positive = classes.Select(c => c == 1).ToArray();
        var values = Array.ConvertAll(probabilities, double.CreateChecked);
        return new EvaluationResult(PredictionKind.Binary, data.Rows, scores.Loss)
        {
            Accuracy = scores.Accuracy,
            ConfusionMatrix = confusion,
            BalancedAccuracy = confusion.BalancedAccuracy,
            RocAuc = RankingOrNull(positive, values, precisionRecall: false),
            AveragePrecision = RankingOrNull(positive, values, precisionRecall: true),
            LogLoss = Metrics.LogLoss<T>(classes, probabilities),
        };
    }

    private EvaluationResult MeasureMultiLabel(TrainingSet<T> data, T[] outputs, EvaluationScores scores)
    {
        if (scores.Accuracy is null)
        {
            return new EvaluationResult(PredictionKind.MultiLabel, data.Rows, scores.Loss);
        }

        int rows = data.Rows, width = Network.OutputSize;
        var probabilities = Probabilities(outputs);
        var labels = Array.ConvertAll(data.Y.ToArray(), y => y == T.One ? 1 : 0);
        return new EvaluationResult(PredictionKind.MultiLabel, rows, scores.Loss)
        {
            Accuracy = scores.Accuracy,
            HammingAccuracy = scores.HammingAccuracy,
            RocAuc = PerColumnOrNull(labels.Select(l => l == 1).ToArray(), probabilities, rows, width, precisionRecall: false),
            AveragePrecision = PerColumnOrNull(labels.Select(l => l == 1).ToArray(), probabilities, rows, width, precisionRecall: true),
            LogLoss = Metrics.LogLoss<T>(labels, probabilities),
        };
    }

    private EvaluationResult MeasureMultiClass(TrainingSet<T> data, T[] outputs, EvaluationScores scores)
    {
        int rows = data.Rows, width = Network.OutputSize;
        int[] classes = data.Classes!;
        var predicted = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            predicted[r] = Network<T>.ArgMax(outputs.AsSpan(r * width, width));
        }

        var confusion = new ConfusionMatrix(classes, predicted, width);
        T[]? probabilities = Loss is CategoricalCrossEntropyWithLogits ? Softmax(outputs, rows, width)
            : Loss is CategoricalCrossEntropy || Network.Layers[^1].Activation is Softmax ? outputs
            : null;
        var oneHot = new bool[rows * width];
        for (int r = 0; r < rows; r++)
        {
            oneHot[r * width + classes[r]] = true;
        }

        T[] ranked = probabilities ?? outputs;
        return new EvaluationResult(PredictionKind.MultiClass, rows, scores.Loss)
        {
            Accuracy = scores.Accuracy,
            ConfusionMatrix = confusion,
            BalancedAccuracy = confusion.BalancedAccuracy,
            RocAuc = PerColumnOrNull(oneHot, ranked, rows, width, precisionRecall: false),
            AveragePrecision = PerColumnOrNull(oneHot, ranked, rows, width, precisionRecall: true),
            LogLoss = probabilities is null ? null : Metrics.LogLoss(Matrix<T>.Build.DenseOfRowMajor(rows, width, probabilities), classes),
        };
    }

    private EvaluationResult MeasureRegression(TrainingSet<T> data, T[] outputs, EvaluationScores scores)
    {
        int rows = data.Rows, width = Network.OutputSize;
        return new EvaluationResult(PredictionKind.Regression, rows, scores.Loss)
        {
            MeanSquaredError = Metrics.MeanSquaredError<T>(data.Y.Span, outputs),
            MeanAbsoluteError = Metrics.MeanAbsoluteError<T>(data.Y.Span, outputs),
            RSquared = Metrics.RSquared(Matrix<T>.Build.DenseOfRowMajor(rows, width, data.Y.ToArray()), Matrix<T>.Build.DenseOfRowMajor(rows, width, outputs)),
        };
    }

    /// <summary>Yes/no outputs as probabilities: σ(z) of logits, the outputs themselves otherwise.</summary>
    private T[] Probabilities(T[] outputs) => DecidesOnLogits
        ? Array.ConvertAll(outputs, z => T.CreateChecked(1 / (1 + Math.Exp(-double.CreateChecked(z)))))
        : outputs;

    /// <summary>The softmax of every row of logits.</summary>
    private static T[] Softmax(T[] logits, int rows, int width)
    {
        var probabilities = new T[logits.Length];
        for (int r = 0; r < rows; r++)
        {
            var row = logits.AsSpan(r * width, width);
            double max = double.NegativeInfinity, sum = 0;
            foreach (T z in row)
            {
                max = Math.Max(max, double.CreateChecked(z));
            }

            foreach (T z in row)
            {
                sum += Math.Exp(double.CreateChecked(z) - max);
            }

            for (int j = 0; j < width; j++)
            {
                probabilities[r * width + j] = T.CreateChecked(Math.Exp(double.CreateChecked(row[j]) - max) / sum);
            }
        }

        return probabilities;
    }

    /// <summary>A binary ROC-AUC or average precision, or null where it is undefined (a class missing).</summary>
    private static double? RankingOrNull(bool[] positive, double[] scores, bool precisionRecall)
    {
        int positives = positive.Count(p => p);
        bool defined = positives > 0 && (precisionRecall || positives < positive.Length);
        return defined ? Metrics.Ranking(positive, scores, "targets", "targets", precisionRecall) : null;
    }

    /// <summary>The macro average over columns of a ranking metric of row-major flags and scores, or null if it is
    /// undefined for a column.</summary>
    private static double? PerColumnOrNull(bool[] flags, T[] scores, int rows, int width, bool precisionRecall)
    {
        var positive = new bool[rows];
        var values = new double[rows];
        double sum = 0;
        for (int j = 0; j < width; j++)
        {
            for (int r = 0; r < rows; r++)
            {
                positive[r] = flags[r * width + j];
                values[r] = double.CreateChecked(scores[r * width + j]);
            }

            if (RankingOrNull(positive, values, precisionRecall) is not double value)
            {
                return null;
            }

            sum += value;
        }

        return sum / width;
    }
}

/// <summary>The right decisions counted over an epoch or a data set.</summary>
internal struct DecisionTally
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
