using static Backprop.Tests.Optimizers.OptimizerTestKit;

namespace Backprop.Tests.Optimizers;

public class AdamTests
{
    /// <summary>Kingma and Ba (2015), Algorithm 1, written plainly; <paramref name="l2"/> adds λ·w to g first.</summary>
    private static Action<double[], double[], int> Reference(double eta, double beta1, double beta2, double epsilon, double l2)
    {
        double[] m = new double[3], v = new double[3];
        return (w, g, t) =>
        {
            for (int i = 0; i < w.Length; i++)
            {
                double gi = g[i] + l2 * w[i];
                m[i] = beta1 * m[i] + (1 - beta1) * gi;
                v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
                double mHat = m[i] / (1 - Math.Pow(beta1, t));
                double vHat = v[i] / (1 - Math.Pow(beta2, t));
                w[i] = w[i] - eta * mHat / (Math.Sqrt(vHat) + epsilon);
            }
        };
    }

    [Fact]
    public void The_first_three_updates_follow_the_paper()
    {
        MatchesReferenceForThreeUpdates(new Adam(0.01), Reference(0.01, 0.9, 0.999, 1e-8, 0));
    }

    [Fact]
    public void Other_hyper_parameters_and_coupled_weight_decay_follow_the_rule()
    {
        MatchesReferenceForThreeUpdates(
            new Adam(0.05, beta1: 0.8, beta2: 0.95, epsilon: 1e-3, weightDecay: 0.1),
            Reference(0.05, 0.8, 0.95, 1e-3, 0.1));
    }

    [Fact]
    public void Epsilon_is_outside_the_square_root()
    {
        // With g = 1e-6 at t = 1: m̂ = g, v̂ = g², so the step is η·g / (g + ε) = η/2 with ε = g outside the root;
        // ε inside the root would give η·g / √(g² + ε) ≈ η·1e-3.
        var parameter = MakeParameter<double>([0.0]);
        SetGradients(parameter, [1e-6]);
        new Adam(0.1, epsilon: 1e-6).Update(parameter);
        parameter.Values[0].Should().BeApproximately(-0.05, 1e-12);
    }

    [Fact]
    public void Slots_are_the_moments()
    {
        var adam = new Adam(0.01);
        var parameter = MakeParameter<double>(Initial);
        SetGradients(parameter, Gradients[0]);
        adam.Update(parameter);

        var state = adam.GetState(parameter)!;
        adam.SlotNames.Should().Equal("exp_avg", "exp_avg_sq");
        state.Step.Should().Be(1);
        state.GetSlot("exp_avg").ToArray().Should().Equal(Gradients[0].Select(g => 0.1 * g), (a, b) => Math.Abs(a - b) < 1e-15);
        state.GetSlot(1).ToArray().Should().Equal(Gradients[0].Select(g => 0.001 * g * g), (a, b) => Math.Abs(a - b) < 1e-15);
    }

    [Fact]
    public void Describes_itself_in_the_invariant_culture()
    {
        new Adam(0.001).ToString().Should().Be("Adam(η=0.001, β1=0.9, β2=0.999, ε=1E-08)");
    }
}
