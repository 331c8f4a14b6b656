using System.Globalization;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Properties;

/// <summary>
/// Moves a generated gradient-check case just far enough from every kink that no finite-difference stencil of
/// <see cref="GradientCheck"/> straddles one, so the check is held to its full tolerance on every generated case
/// instead of skipping the cases that happen to sit near a kink.
/// </summary>
/// <remarks>
/// <para>The kinks: ReLU, LeakyReLU and ELU at z = 0 (f′ or f″ jumps), the L1 penalty at w = 0, MAE at ŷ = y and Huber
/// at |ŷ − y| = δ. The check perturbs one weight, bias or input value at a time by up to ε = 2h. A rigorous bound B_l of
/// how far that can move any pre-activation of layer l (per row, in the ∞-norm) is the larger of the direct effect of
/// the layer's own parameters, ε·max(1, max|a_{l−1}|), and the effect of everything before it, N_l·Lip(f_{l−1})·B_{l−1},
/// where N_l = max_j Σ_i |W_l[i, j]| and Lip(f) bounds |f′| (<see cref="ActivationChoice.Lipschitz"/>); the input's
/// own perturbation starts the chain with ε. A pre-activation at least 2·B_l from 0 therefore never crosses it.</para>
/// <para>The remedy, applied layer by layer in inference mode (as the check runs): each unit of a kinked layer whose
/// pre-activations come within 2·B_l of 0 gets the smallest bias shift that moves all of them (over the batch) out of
/// that band; with L1, weights within 2ε of 0 are moved to ±2ε; for MAE and Huber, targets closer than 2·Lip·B_L to
/// their kink are moved to that distance. Every change keeps the case valid, and the check still covers the whole
/// network, the input and every activation on both sides of its kink.</para>
/// </remarks>
internal static class KinkClearance
{
    /// <summary>What had to be moved, and the bands kept clear.</summary>
    internal sealed record Result(int BiasesShifted, int WeightsMoved, int TargetsMoved, IReadOnlyList<double> Margins)
    {
        public bool MovedAnything => BiasesShifted + WeightsMoved + TargetsMoved > 0;

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"kink clearance: {BiasesShifted} bias(es) shifted, {WeightsMoved} weight(s) moved off 0 for L1, {TargetsMoved} target(s) moved; margins per layer [{string.Join(", ", Margins.Select(m => m.ToString("G3", CultureInfo.InvariantCulture)))}]");
    }

    public static Result Apply(Network<double> network, ILossFunction loss, Matrix<double> inputs, Matrix<double> targets, double stepSize)
    {
        double epsilon = 2 * stepSize;
        int rows = inputs.RowCount;
        int weightsMoved = 0, biasesShifted = 0, targetsMoved = 0;
        var margins = new List<double>();

        foreach (var dense in network.Layers.OfType<Dense<double>>().Where(d => d.L1 > 0))
        {
            var weights = dense.Parameters[0].Values;
            for (int i = 0; i < weights.Length; i++)
            {
                if (Math.Abs(weights[i]) < 2 * epsilon)
                {
                    weights[i] = weights[i] < 0 ? -2 * epsilon : 2 * epsilon;
                    weightsMoved++;
                }
            }
        }

        double[] activations = inputs.ToRowMajorArray();
        double previousMax = MaxAbs(activations);
        double upstream = epsilon; // bound of ‖Δa_{l−1}‖∞; the input's own perturbation
        for (int l = 0; l < network.Layers.Count; l++)
        {
            var layer = network.Layers[l];
            int width = layer.OutputSize;
            var preActivations = new double[rows * width];
            var next = new double[rows * width];
            layer.Forward(activations, preActivations, next, rows, training: false);
            if (layer is Dense<double> dense)
            {
                double bound = Math.Max(epsilon * Math.Max(1, previousMax), ColumnNorm(dense.Weights) * upstream);
                var choice = Catalogue.HiddenActivations.Single(c => ReferenceEquals(c.Activation, dense.Activation));
                if (choice.Kinked)
                {
                    double margin = 2 * bound;
                    margins.Add(margin);
                    var biases = dense.Parameters[1].Values;
                    for (int j = 0; j < width; j++)
                    {
                        double shift = SmallestClearShift(preActivations, j, width, rows, margin);
                        if (shift != 0)
                        {
                            biases[j] += shift;
                            biasesShifted++;
                        }
                    }

                    layer.Forward(activations, preActivations, next, rows, training: false);
                }

                upstream = choice.Lipschitz * bound;
            }

            activations = next;
            previousMax = MaxAbs(activations);
        }

        if (loss is MeanAbsoluteError or Huber)
        {
            double margin = 2 * upstream;
            margins.Add(margin);
            int width = network.OutputSize;
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < width; j++)
                {
                    double output = activations[(r * width) + j], difference = targets[r, j] - output;
                    double moved = loss is Huber huber ? AwayFromHuberKink(difference, huber.Delta, margin) : AwayFromZero(difference, margin);
                    if (moved != difference)
                    {
                        targets[r, j] = output + moved;
                        targetsMoved++;
                    }
                }
            }
        }

        return new Result(biasesShifted, weightsMoved, targetsMoved, margins);
    }

    /// <summary>The shift s of smallest |s| with |z[r, j] + s| ≥ margin for every row (0 when none is needed).</summary>
    private static double SmallestClearShift(double[] z, int j, int width, int rows, double margin)
    {
        bool Clear(double s)
        {
            for (int r = 0; r < rows; r++)
            {
                if (Math.Abs(z[(r * width) + j] + s) < margin)
                {
                    return false;
                }
            }

            return true;
        }

        if (Clear(0))
        {
            return 0;
        }

        // The optimum is at an edge of a row's band; a little beyond it, so that rounding cannot put it back inside.
        double best = double.PositiveInfinity;
        for (int r = 0; r < rows; r++)
        {
            foreach (double s in new[] { -z[(r * width) + j] + (1.01 * margin), -z[(r * width) + j] - (1.01 * margin) })
            {
                if (Math.Abs(s) < Math.Abs(best) && Clear(s))
                {
                    best = s;
                }
            }
        }

        return best;
    }

    private static double AwayFromZero(double d, double margin) =>
        Math.Abs(d) >= margin ? d : (d < 0 ? -1.01 : 1.01) * margin;

    private static double AwayFromHuberKink(double d, double delta, double margin)
    {
        double size = Math.Abs(d);
        if (Math.Abs(size - delta) >= margin)
        {
            return d;
        }

        double moved = size < delta ? delta - (1.01 * margin) : delta + (1.01 * margin);
        return d < 0 ? -moved : moved;
    }

    /// <summary>max_j Σ_i |W[i, j]|: how much a change of the layer's input (∞-norm) can move one pre-activation.</summary>
    private static double ColumnNorm(Matrix<double> weights) =>
        Enumerable.Range(0, weights.ColumnCount).Max(j => weights.Column(j).Enumerate().Sum(Math.Abs));

    private static double MaxAbs(double[] values) => values.Length == 0 ? 0 : values.Max(Math.Abs);
}
