namespace Backprop.Tests.Optimizers;

public class SgdTests
{
    private static Parameter<double> MakeParameter(double[] values, double[] gradients)
    {
        var network = new Network<double>(values.Length, new Dense<double>(1));
        var parameter = network.Layers[0].Parameters[0];
        values.CopyTo(parameter.Values);
        gradients.CopyTo(parameter.Gradients);
        return parameter;
    }

    [Fact]
    public void Plain_sgd_steps_against_the_gradient()
    {
        var p = MakeParameter([1.0, -2.0], [0.5, -4.0]);
        new Sgd(0.1).Update(p);
        p.Values.ToArray().Should().Equal(1.0 - 0.1 * 0.5, -2.0 + 0.1 * 4.0);
    }

    [Fact]
    public void Momentum_follows_the_published_rule_for_three_steps()
    {
        double[] g = [0.5, -1.0];
        var p = MakeParameter([1.0, 2.0], g);
        var sgd = new Sgd(0.1, momentum: 0.9);
        double[] w = [1.0, 2.0], v = [0.0, 0.0];
        for (int step = 0; step < 3; step++)
        {
            sgd.Update(p);
            for (int i = 0; i < 2; i++)
            {
                v[i] = 0.9 * v[i] + g[i];
                w[i] -= 0.1 * v[i];
            }

            p.Values.ToArray().Should().Equal(w, (a, b) => Math.Abs(a - b) < 1e-15);
        }
    }

    [Fact]
    public void Nesterov_momentum_follows_the_published_rule_for_three_steps()
    {
        double[] g = [0.5, -1.0];
        var p = MakeParameter([1.0, 2.0], g);
        var sgd = new Sgd(0.1, momentum: 0.9, nesterov: true);
        double[] w = [1.0, 2.0], v = [0.0, 0.0];
        for (int step = 0; step < 3; step++)
        {
            sgd.Update(p);
            for (int i = 0; i < 2; i++)
            {
                v[i] = 0.9 * v[i] + g[i];
                w[i] -= 0.1 * (g[i] + 0.9 * v[i]);
            }

            p.Values.ToArray().Should().Equal(w, (a, b) => Math.Abs(a - b) < 1e-15);
        }
    }

    [Fact]
    public void Velocities_are_kept_per_parameter()
    {
        var first = MakeParameter([0.0], [1.0]);
        var second = MakeParameter([0.0], [1.0]);
        var sgd = new Sgd(1, momentum: 0.5);
        sgd.Update(first);
        sgd.Update(first);
        sgd.Update(second);

        first.Values[0].Should().Be(-1 - 1.5);
        second.Values[0].Should().Be(-1);
    }

    /// <summary>PyTorch's SGD with coupled weight decay, written plainly: g ← g + λ·w, v ← μ·v + g, then the step.</summary>
    private static Action<double[], double[], int> Reference(double eta, double mu, bool nesterov, double lambda)
    {
        double[] v = new double[3];
        return (w, g, _) =>
        {
            for (int i = 0; i < w.Length; i++)
            {
                double gi = g[i] + lambda * w[i];
                if (mu == 0)
                {
                    w[i] -= eta * gi;
                    continue;
                }

                v[i] = mu * v[i] + gi;
                w[i] -= nesterov ? eta * (gi + mu * v[i]) : eta * v[i];
            }
        };
    }

    [Theory]
    [InlineData(0.0, false)]
    [InlineData(0.9, false)]
    [InlineData(0.9, true)]
    public void Weight_decay_follows_the_rule_for_three_steps(double momentum, bool nesterov)
    {
        OptimizerTestKit.MatchesReferenceForThreeUpdates(
            new Sgd(0.1, momentum, nesterov, weightDecay: 0.05),
            Reference(0.1, momentum, nesterov, 0.05));
    }

    [Fact]
    public void Without_weight_decay_the_rule_is_unchanged_on_the_shared_problem()
    {
        OptimizerTestKit.MatchesReferenceForThreeUpdates(new Sgd(0.1, 0.9), Reference(0.1, 0.9, false, 0));
    }

    [Fact]
    public void Describes_itself()
    {
        new Sgd(0.1, momentum: 0.9, nesterov: true, weightDecay: 0.0001).ToString().Should().Be("SGD(η=0.1, μ=0.9, nesterov, λ=0.0001)");
    }
}
