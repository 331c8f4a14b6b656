using System.Globalization;
using System.Text;

namespace Backprop;

/// <summary>What a network's outputs are, as <see cref="Trainer{T}.EvaluateMetrics(MathNet.Numerics.LinearAlgebra.Matrix{T}, int[])"/>
/// and the training history read them.</summary>
public enum PredictionKind
{
    /// <summary>Values to approximate: scored by MSE, MAE and R².</summary>
    Regression,

    /// <summary>One class out of several (labels, or one-hot target rows): scored by the arg-max of the outputs.</summary>
    MultiClass,

    /// <summary>One output giving the probability (or the logit) of class 1, with 0/1 targets: scored by a threshold at
    /// probability 0.5.</summary>
    Binary,

    /// <summary>Several independent yes/no outputs with a 0/1 target matrix: every output thresholded at probability 0.5.</summary>
    MultiLabel,
}

/// <summary>
/// A network's loss on a data set and the metrics that fit its output, from
/// <see cref="Trainer{T}.EvaluateMetrics(MathNet.Numerics.LinearAlgebra.Matrix{T}, int[])"/>.
/// </summary>
/// <remarks>
/// <para>A metric that does not apply to the <see cref="Kind"/> is null:</para>
/// <list type="bullet">
/// <item><see cref="PredictionKind.Binary"/>: accuracy and the confusion matrix of the classes at probability 0.5,
/// balanced accuracy, ROC-AUC and average precision of the probabilities, log-loss.</item>
/// <item><see cref="PredictionKind.MultiClass"/>: accuracy and confusion matrix of the arg-max, balanced accuracy,
/// one-vs-rest macro ROC-AUC and average precision; log-loss when the outputs are probabilities (a softmax output, or
/// logits trained with <see cref="CategoricalCrossEntropyWithLogits"/>, which are turned into probabilities).</item>
/// <item><see cref="PredictionKind.MultiLabel"/>: exact-match <see cref="Accuracy"/>, <see cref="HammingAccuracy"/>,
/// macro ROC-AUC and average precision over labels, log-loss averaged over every label.</item>
/// <item><see cref="PredictionKind.Regression"/>: <see cref="MeanSquaredError"/>, <see cref="MeanAbsoluteError"/>,
/// <see cref="RSquared"/>.</item>
/// </list>
/// <para>The classification metrics need targets that are classes (0/1 for binary and multi-label): with soft targets
/// they are null. ROC-AUC is null when a class (or label) has no samples or all of them, average precision when one has
/// no samples, since they are undefined there. The metrics are those of <see cref="Metrics"/> and
/// <see cref="Backprop.ConfusionMatrix"/>, which document their formulas.</para>
/// <para>Thread safety: immutable: safe to read from any thread.</para>
/// </remarks>
public sealed class EvaluationResult
{
    internal EvaluationResult(PredictionKind kind, int sampleCount, double loss)
    {
        Kind = kind;
        SampleCount = sampleCount;
        Loss = loss;
    }

    /// <summary>What the outputs were read as.</summary>
    public PredictionKind Kind { get; }

    /// <summary>The number of samples evaluated.</summary>
    public int SampleCount { get; }

    /// <summary>The loss over the data set plus the layers' regularisation penalties, as <c>Trainer.Evaluate</c> gives it.</summary>
    public double Loss { get; }

    /// <summary>The fraction of samples classified correctly (for multi-label, with every label right); null for regression.</summary>
    public double? Accuracy { get; internal init; }

    /// <summary>For multi-label, the fraction of single labels right (1 − Hamming loss); otherwise null.</summary>
    public double? HammingAccuracy { get; internal init; }

    /// <summary>The mean recall over the classes that occur (see <see cref="Metrics.BalancedAccuracy"/>); binary and multi-class only.</summary>
    public double? BalancedAccuracy { get; internal init; }

    /// <summary>The area under the ROC curve (see <see cref="Metrics.RocAuc{T}(ReadOnlySpan{int}, ReadOnlySpan{T})"/>):
    /// binary, or the macro average over classes (one-vs-rest) or labels.</summary>
    public double? RocAuc { get; internal init; }

    /// <summary>The average precision, the area under the precision–recall curve (see
    /// <see cref="Metrics.AveragePrecision{T}(ReadOnlySpan{int}, ReadOnlySpan{T})"/>): binary, or the macro average over
    /// classes (one-vs-rest) or labels.</summary>
    public double? AveragePrecision { get; internal init; }

    /// <summary>The log-loss of the predicted probabilities (see <see cref="Metrics.LogLoss{T}(ReadOnlySpan{int}, ReadOnlySpan{T})"/>);
    /// for multi-label the mean over every label of the binary log-loss.</summary>
    public double? LogLoss { get; internal init; }

    /// <summary>The counts by actual and predicted class, with precision, recall and F1; binary and multi-class only.</summary>
    public ConfusionMatrix? ConfusionMatrix { get; internal init; }

    /// <summary>For regression, the mean squared error over every output; otherwise null.</summary>
    public double? MeanSquaredError { get; internal init; }

    /// <summary>For regression, the mean absolute error over every output; otherwise null.</summary>
    public double? MeanAbsoluteError { get; internal init; }

    /// <summary>For regression, R² averaged over the outputs; otherwise null.</summary>
    public double? RSquared { get; internal init; }

    /// <summary>Lists the metrics that apply.</summary>
    /// <returns>For example "Binary, 200 samples: loss 0.0812, accuracy 0.97, balanced accuracy 0.965, ROC-AUC 0.995, average precision 0.991, log-loss 0.0812".</returns>
    public override string ToString()
    {
        var text = new StringBuilder();
        var culture = CultureInfo.InvariantCulture;
        text.Append(culture, $"{Kind}, {SampleCount} samples: loss {Loss:G4}");
        void Add(string name, double? value)
        {
            if (value is double v)
            {
                text.Append(culture, $", {name} {v:G4}");
            }
        }

        Add("accuracy", Accuracy);
        Add("Hamming accuracy", HammingAccuracy);
        Add("balanced accuracy", BalancedAccuracy);
        Add("ROC-AUC", RocAuc);
        Add("average precision", AveragePrecision);
        Add("log-loss", LogLoss);
        Add("MSE", MeanSquaredError);
        Add("MAE", MeanAbsoluteError);
        Add("R²", RSquared);
        return text.ToString();
    }
}
