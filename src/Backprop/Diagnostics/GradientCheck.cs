using System.Globalization;
using System.Text;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop;

/// <summary>
/// Verifies backpropagation numerically: compares the analytic gradient of the loss with respect to every weight, every
/// bias and every input value against central finite differences of the loss, in double precision.
/// </summary>
/// <remarks>
/// <para>Each numeric derivative is the fourth-order central difference
/// ∂L/∂θ ≈ [−L(θ + 2h) + 8·L(θ + h) − 8·L(θ − h) + L(θ − 2h)] / (12·h), whose truncation error is O(h⁴), so that
/// agreement to 1e-6 and better is reachable in double. It is evaluated as [8·(L(θ + h) − L(θ − h)) − (L(θ + 2h) −
/// L(θ − 2h))] / (12·h): differences of nearby losses are exact, so a loss that does not change gives exactly 0.</para>
/// <para>The error of one value is |analytic − numeric| / max(|analytic|, |numeric|, floor): relative for ordinary
/// gradients, absolute below the floor, where rounding noise of the loss dominates.</para>
/// <para>The network's parameters are perturbed in place and restored bit for bit before the method returns.
/// Every pass runs in inference mode, so a <see cref="Dropout{T}"/> layer is checked as the identity it is at inference.</para>
/// <para>Thread safety: <see cref="Run"/> perturbs the network's weights in place, one at a time, and overwrites its
/// gradients. It holds the network as training does, so a check and a <c>Fit</c>, <c>TrainBatch</c> or training step of
/// the same network exclude each other (the later one throws <see cref="InvalidOperationException"/>); predictions and
/// saves are not checked and must not run meanwhile. Checks of different networks may run on several threads at
/// once.</para>
/// </remarks>
public static class GradientCheck
{
    /// <summary>Runs the check on one batch.</summary>
    /// <param name="network">A double-precision network.</param>
    /// <param name="loss">The loss whose gradient is checked (fused with the output activation where the trainer would fuse it).</param>
    /// <param name="inputs">The batch, rows × input size.</param>
    /// <param name="targets">The targets, rows × output size.</param>
    /// <param name="options">Step size, tolerance and floor; the defaults of <see cref="GradientCheckOptions"/> when null.</param>
    /// <returns>The worst error of every layer's weights, biases and of the input.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A matrix has the wrong shape or non-finite values.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="InvalidOperationException">Nothing was compared (a network without parameters and with the input check off), or the network is being trained by another call on another thread.</exception>
    public static GradientCheckReport Run(Network<double> network, ILossFunction loss, Matrix<double> inputs, Matrix<double> targets, GradientCheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(loss);
        options ??= new GradientCheckOptions();
        options.Validate();

        // The analytic gradients: steps 1–3 of a trainer whose optimizer is never called.
        // Both the analytic and the numeric derivatives are of the inference-mode function, so that layers with
        // randomness (dropout) compare the same deterministic function.
        var trainer = new Trainer<double>(network, loss, new Sgd(1));
        double[] x = network.ToRowMajor(inputs, nameof(inputs));
        var pass = new ForwardPass<double>(network, inputs.RowCount);
        x.CopyTo(pass.Input, 0);
        var entries = new List<GradientCheckEntry>();

        // The check writes the network's gradients and perturbs its weights: it holds the training flag, so that no
        // Fit or training step on another thread can run meanwhile (nor this check while they run).
        using (network.HoldForTraining())
        {
            trainer.ForwardCore(pass, inputs.RowCount, training: false);
            trainer.LocalGradientsCore(pass, targets);
            trainer.BackpropagateCore(pass, computeInputGradients: options.CheckInputs);

            var layers = network.Layers;
            for (int l = 0; l < layers.Count; l++)
            {
                foreach (var parameter in layers[l].Parameters)
                {
                    double[] analytic = parameter.GradientArray.ToArray();
                    entries.Add(Compare(l, parameter.Name, parameter.ValueArray, analytic,
                        () => Loss(trainer, pass), options, parameter.Shape));
                }
            }

            if (options.CheckInputs)
            {
                double[] analytic = pass.InputGradients!.AsSpan(0, pass.Rows * network.InputSize).ToArray();
                entries.Add(Compare(-1, "input", pass.Input, analytic, () => Loss(trainer, pass), options, new TensorShape(pass.Rows, network.InputSize)));
            }

            // The weights were perturbed and put back: count it as a change, as a training step does.
            network.MarkWeightsChanged();
        }

        int compared = entries.Sum(e => e.Count);
        if (compared == 0)
        {
            throw new InvalidOperationException("The gradient check compared nothing: the network has no parameters and the input check is off. A check that compares nothing proves nothing.");
        }

        return new GradientCheckReport(entries, options.Tolerance);
    }

    private static double Loss(Trainer<double> trainer, ForwardPass<double> pass)
    {
        trainer.ForwardCore(pass, pass.Rows, training: false);
        return trainer.LossValueCore(pass);
    }

    private static GradientCheckEntry Compare(int layer, string name, double[] values, double[] analytic, Func<double> loss,
        GradientCheckOptions options, TensorShape shape)
    {
        int worst = -1;
        double worstError = -1, worstAnalytic = 0, worstNumeric = 0;
        double h = options.StepSize;
        for (int i = 0; i < analytic.Length; i++)
        {
            double original = values[i];
            double plus2, plus1, minus1, minus2;
            try
            {
                values[i] = original + 2 * h;
                plus2 = loss();
                values[i] = original + h;
                plus1 = loss();
                values[i] = original - h;
                minus1 = loss();
                values[i] = original - 2 * h;
                minus2 = loss();
            }
            finally
            {
                // Restored however the loss ends, also when a custom layer or loss throws.
                values[i] = original;
            }

            // Grouped as differences of nearby losses, exact when they are within a factor 2 of each other (Sterbenz):
            // summing the four terms in order rounds 7·L, an error of up to |L|·6e-14 here (h = 1e-3) that alone exceeds
            // tolerance × floor once |L| > ~16, even where the loss does not change at all (a dead ReLU).
            double numeric = ((8 * (plus1 - minus1)) - (plus2 - minus2)) / (12 * h);
            double error = Math.Abs(analytic[i] - numeric) / Math.Max(Math.Max(Math.Abs(analytic[i]), Math.Abs(numeric)), options.Floor);
            if (double.IsNaN(error))
            {
                error = double.PositiveInfinity;
            }

            if (error > worstError)
            {
                (worst, worstError, worstAnalytic, worstNumeric) = (i, error, analytic[i], numeric);
            }
        }

        // Name the worst value by its position in the tensor's shape (row-major, as every parameter is stored).
        int[] index = worst >= 0 ? shape.IndexOf(worst) : [];
        int row = index.Length > 0 ? index[0] : -1;
        int column = index.Length > 1 ? index[1] : index.Length == 1 ? 0 : -1;
        return new GradientCheckEntry(layer, name, analytic.Length, worst, row, column, worstAnalytic, worstNumeric, Math.Max(worstError, 0))
        {
            Index = index,
            Shape = shape,
        };
    }
}

/// <summary>Settings of <see cref="GradientCheck.Run"/>.</summary>
/// <remarks>Thread safety: init-only: one instance may be shared by any number of checks and threads.</remarks>
public sealed class GradientCheckOptions
{
    /// <summary>The finite-difference step h; 1e-3 by default, which balances the O(h⁴) truncation of the fourth-order
    /// stencil against the rounding of the loss.</summary>
    public double StepSize { get; init; } = 1e-3;

    /// <summary>The largest acceptable error; 1e-6 by default.</summary>
    public double Tolerance { get; init; } = 1e-6;

    /// <summary>The smallest denominator of the relative error, so that gradients that are essentially zero are compared
    /// absolutely; 1e-6 by default.</summary>
    public double Floor { get; init; } = 1e-6;

    /// <summary>Whether to check ∂L/∂x, the gradient with respect to the input, too. True by default.</summary>
    public bool CheckInputs { get; init; } = true;

    internal void Validate()
    {
        Guard.PositiveFinite(StepSize, "options.StepSize");
        Guard.PositiveFinite(Tolerance, "options.Tolerance");
        Guard.PositiveFinite(Floor, "options.Floor");
    }
}

/// <summary>The worst disagreement found in one tensor: a layer's weights or biases, or the input.</summary>
/// <remarks>Thread safety: immutable: safe to share between threads.</remarks>
/// <param name="LayerIndex">The layer, 0 for the first; −1 for the network's input.</param>
/// <param name="Parameter">"weights", "biases" or "input".</param>
/// <param name="Count">How many values were compared.</param>
/// <param name="WorstIndex">The flat index of the worst value in the tensor's storage; −1 when none was compared.</param>
/// <param name="Row">The worst value's first coordinate in the tensor's shape (the unit for a dense layer's weights,
/// which are units × inputs; the sample for the input); −1 when none was compared.</param>
/// <param name="Column">The worst value's second coordinate (the input for a dense layer's weights, the feature for the
/// input); 0 for a vector, −1 when none was compared.</param>
/// <param name="Analytic">The backpropagated derivative there.</param>
/// <param name="Numeric">The finite-difference derivative there.</param>
/// <param name="RelativeError">|analytic − numeric| / max(|analytic|, |numeric|, floor).</param>
public sealed record GradientCheckEntry(int LayerIndex, string Parameter, int Count, int WorstIndex, int Row, int Column,
    double Analytic, double Numeric, double RelativeError)
{
    /// <summary>The worst value's coordinates in <see cref="Shape"/>, any rank; empty when none was compared.</summary>
    public IReadOnlyList<int> Index { get; init; } = [];

    /// <summary>The shape of the tensor checked: the parameter's shape, or rows × input size for the input.</summary>
    public TensorShape? Shape { get; init; }
}

/// <summary>The result of <see cref="GradientCheck.Run"/>.</summary>
/// <remarks>Thread safety: immutable: every member may be called from any number of threads at once.</remarks>
public sealed class GradientCheckReport
{
    internal GradientCheckReport(IReadOnlyList<GradientCheckEntry> entries, double tolerance)
    {
        Entries = entries;
        Tolerance = tolerance;
        Worst = entries.Where(e => e.Count > 0).MaxBy(e => e.RelativeError)!;
    }

    /// <summary>One entry per layer parameter, then one for the input if it was checked.</summary>
    public IReadOnlyList<GradientCheckEntry> Entries { get; }

    /// <summary>The entry with the largest error.</summary>
    public GradientCheckEntry Worst { get; }

    /// <summary>The largest error over everything compared.</summary>
    public double MaxRelativeError => Worst.RelativeError;

    /// <summary>The number of values compared.</summary>
    public int Compared => Entries.Sum(e => e.Count);

    /// <summary>The tolerance the check was run with.</summary>
    public double Tolerance { get; }

    /// <summary>Whether every error is within <see cref="Tolerance"/>.</summary>
    public bool Passed => MaxRelativeError <= Tolerance;

    /// <summary>Throws when the check failed, with the report as the message.</summary>
    /// <exception cref="GradientCheckFailedException">An error exceeds <see cref="Tolerance"/>.</exception>
    public void ThrowIfFailed()
    {
        if (!Passed)
        {
            throw new GradientCheckFailedException(this);
        }
    }

    /// <summary>A table of the worst error per tensor.</summary>
    /// <returns>One line per entry, and a verdict.</returns>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Gradient check: {Compared} values compared, worst relative error {MaxRelativeError:E2} (tolerance {Tolerance:E1}): {(Passed ? "passed" : "FAILED")}");
        foreach (var e in Entries)
        {
            string where = e.LayerIndex < 0 ? "input" : $"layer {e.LayerIndex} {e.Parameter}";
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  {where,-18} n={e.Count,-6} worst at [{string.Join(", ", e.Index)}]: analytic {e.Analytic:E6}, numeric {e.Numeric:E6}, error {e.RelativeError:E2}");
        }

        return text.ToString();
    }
}

/// <summary>Thrown by <see cref="GradientCheckReport.ThrowIfFailed"/> when backpropagated and numeric gradients disagree.</summary>
/// <remarks>Thread safety: immutable: safe to read from any thread.</remarks>
public sealed class GradientCheckFailedException : Exception
{
    /// <summary>Creates the exception from a failed report.</summary>
    /// <param name="report">The report; its text becomes the message.</param>
    public GradientCheckFailedException(GradientCheckReport report)
        : base((report ?? throw new ArgumentNullException(nameof(report))).ToString()) => Report = report;

    /// <summary>The failed report.</summary>
    public GradientCheckReport Report { get; }
}
