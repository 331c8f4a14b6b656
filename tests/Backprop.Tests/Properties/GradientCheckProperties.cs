using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Backprop.Tests.Properties;

/// <summary>
/// Backpropagation agrees with fourth-order finite differences (<see cref="GradientCheck"/>: step 1e-3, tolerance 1e-6,
/// the input checked too) on random networks, in double.
/// </summary>
/// <remarks>
/// <para>No case is skipped: <see cref="KinkClearance"/> moves each case just clear of its kinks first. The property's
/// output (FsCheck's summary) says in how many of the cases something had to be moved.</para>
/// <para>The floor (the denominator below which errors are absolute) is the default 1e-6 times max(1, |L|). Each loss
/// value is rounded relative to its size, so the finite differences carry noise of about |L|·1e-16 / h ≈ |L|·1e-13:
/// with the fixed floor, a gradient below 1e-6 of a sum-reduced loss of |L| ≳ 8 can fail on that noise alone (found
/// with random seeds: softmax + cross_entropy(sum), 4 rows of 7 classes, L ≈ 7.8, an input gradient of 2.7e-7 off by
/// 1.0e-12). For |L| ≤ 1 the floor is the default one.</para>
/// </remarks>
[Properties(MaxTest = PropertyConfig.MaxTest, Replay = PropertyConfig.Replay, Arbitrary = new[] { typeof(Generators) })]
public sealed class GradientCheckProperties
{
    private const double Tolerance = 1e-6;
    private const double DefaultFloor = 1e-6;

    [Property]
    public Property BackpropagationMatchesFiniteDifferences(NetworkCase c)
    {
        var network = c.Network.Build<double>();
        var x = c.Network.MakeInputs<double>(c.Batch, c.DataSeed);
        var y = c.Network.MakeTargets<double>(c.Batch, c.DataSeed);
        var clearance = KinkClearance.Apply(network, c.Network.Head.Loss, x, y, new GradientCheckOptions().StepSize);
        double loss = new Trainer<double>(network, c.Network.Head.Loss, new Sgd(1)).Evaluate(x, y);
        var options = new GradientCheckOptions { Floor = DefaultFloor * Math.Max(1, Math.Abs(loss)) };

        var report = GradientCheck.Run(network, c.Network.Head.Loss, x, y, options);

        report.Tolerance.Should().Be(Tolerance, "the property holds the check to the tolerance of the hand-written tests");
        report.Compared.Should().Be((int)network.ParameterCount + (c.Batch * c.Network.Inputs), "every weight, bias and input value must be compared");
        report.MaxRelativeError.Should().BeLessThanOrEqualTo(Tolerance, "backpropagation must match the finite differences\n{0}\n{1}", report, clearance);
        return Prop.Classify(true, clearance.MovedAnything, "moved clear of a kink")
            .Classify(c.Network.Layers.OfType<DenseSpec>().Any(d => d.Activation.Kinked), "kinked hidden activation")
            .Classify(Math.Abs(loss) > 1, "floor raised (|L| > 1)");
    }
}
