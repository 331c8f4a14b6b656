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

/// <content>Evaluation with metrics: the loss and the measures that fit the output.</content>
public sealed partial class Trainer<T>
{
    /// <summary>The loss and the metrics of <paramref name="data"/>'s kind.</summary>
    private EvaluationResult Measure(DataSet data)
    {
        int rows = data.Rows, width = Network.OutputSize;
        var outputs = new T[rows * width];
        var scores = EvaluateCore(data, outputs);
        return data.Mode switch
        {
            AccuracyMode.Binary => MeasureBinary(data, outputs, scores),
            AccuracyMode.MultiLabel => MeasureMultiLabel(data, outputs, scores),
            AccuracyMode.ArgMax => MeasureMultiClass(data, outputs, scores),
            _ => MeasureRegression(data, outputs, scores),
        };
    }

    private EvaluationResult MeasureBinary(DataSet data, T[] outputs, EvaluationScores scores)
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

    private EvaluationResult MeasureMultiLabel(DataSet data, T[] outputs, EvaluationScores scores)
    {
        if (scores.Accuracy is null)
        {
            return new EvaluationResult(PredictionKind.MultiLabel, data.Rows, scores.Loss);
        }

        int rows = data.Rows, width = Network.OutputSize;
        var probabilities = Probabilities(outputs);
        var labels = Array.ConvertAll(data.Y, y => y == T.One ? 1 : 0);
        return new EvaluationResult(PredictionKind.MultiLabel, rows, scores.Loss)
        {
            Accuracy = scores.Accuracy,
            HammingAccuracy = scores.HammingAccuracy,
            RocAuc = PerColumnOrNull(labels.Select(l => l == 1).ToArray(), probabilities, rows, width, precisionRecall: false),
            AveragePrecision = PerColumnOrNull(labels.Select(l => l == 1).ToArray(), probabilities, rows, width, precisionRecall: true),
            LogLoss = Metrics.LogLoss<T>(labels, probabilities),
        };
    }

    private EvaluationResult MeasureMultiClass(DataSet data, T[] outputs, EvaluationScores scores)
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

    private EvaluationResult MeasureRegression(DataSet data, T[] outputs, EvaluationScores scores)
    {
        int rows = data.Rows, width = Network.OutputSize;
        return new EvaluationResult(PredictionKind.Regression, rows, scores.Loss)
        {
            MeanSquaredError = Metrics.MeanSquaredError<T>(data.Y, outputs),
            MeanAbsoluteError = Metrics.MeanAbsoluteError<T>(data.Y, outputs),
            RSquared = Metrics.RSquared(Matrix<T>.Build.DenseOfRowMajor(rows, width, data.Y), Matrix<T>.Build.DenseOfRowMajor(rows, width, outputs)),
        };
    }

    /// <summary>The output value above which a yes/no output says yes: 0 on logits, 0.5 on probabilities.</summary>
    private T DecisionCut => DecidesOnLogits ? T.Zero : T.CreateChecked(0.5);

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
