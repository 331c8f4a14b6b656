using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Diagnostics;

/// <summary>
/// The finite differences of <see cref="GradientCheck"/> must not add rounding of their own: where the loss does not
/// change at all, the numeric derivative is exactly 0, however large the loss.
/// </summary>
public sealed class GradientCheckRoundingTests
{
    [Fact]
    public void UnchangedLossGivesExactlyZeroEvenWhenTheLossIsLarge()
    {
        // A ReLU unit that is dead for every row (bias −10, |x| ≤ 1): nothing before it affects the loss, so the
        // gradients of layer 0 and of the input are exactly 0 both analytically and numerically. The loss is large
        // (a sum of squares of errors near 10), where summing −L + 8L − 8L + L in that order would leave ~|L|·1e-15 / 12h
        // ≈ 1e-11, far above tolerance × floor = 1e-12.
        var network = new Network<double>(2, 5, new Dense<double>(1, Activations.ReLU), new Dense<double>(3));
        network.Layers[0].Parameters[1].Values[0] = -10;
        var x = Matrix<double>.Build.DenseOfRowArrays([0.5, -0.25], [-1.0, 0.75], [0.125, 1.0]);
        var y = Matrix<double>.Build.Dense(3, 3, (r, c) => 10.0 + (0.1 * r) + (0.37 * c) + (1.0 / 3));

        var report = GradientCheck.Run(network, Losses.SumSquaredError, x, y);

        new Trainer<double>(network, Losses.SumSquaredError, new Sgd(1)).Evaluate(x, y).Should().BeGreaterThan(500, "the case needs a large loss");
        var silent = report.Entries.Where(e => e.LayerIndex == 0 || e.Parameter == "input").ToArray();
        silent.Should().HaveCount(3).And.OnlyContain(e => e.Analytic == 0 && e.Numeric == 0 && e.RelativeError == 0, "{0}", report);
        report.Passed.Should().BeTrue("{0}", report);
    }
}
