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
}
