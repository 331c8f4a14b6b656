using static Backprop.Tests.Optimizers.OptimizerTestKit;

namespace Backprop.Tests.Optimizers;

public class RpropTests
{
    /// <summary>iRPROP⁻ as in Igel and Hüsken (2000), figure 2, written plainly.</summary>
    private static Action<double[], double[], int> Reference(double delta0, double increase, double decrease, double min, double max)
    {
        double[] previous = new double[3], delta = [delta0, delta0, delta0];
        return (w, g, _) =>
        {
            for (int i = 0; i < w.Length; i++)
            {
                if (previous[i] * g[i] > 0)
                {
                    delta[i] = Math.Min(delta[i] * increase, max);
                    w[i] -= Math.Sign(g[i]) * delta[i];
                    previous[i] = g[i];
                }
                else if (previous[i] * g[i] < 0)
                {
                    delta[i] = Math.Max(delta[i] * decrease, min);
                    previous[i] = 0;
                }
                else
                {
                    w[i] -= Math.Sign(g[i]) * delta[i];
                    previous[i] = g[i];
                }
            }
        };
    }

    [Fact]
    public void The_first_three_updates_follow_the_paper()
    {
        MatchesReferenceForThreeUpdates(new Rprop(0.1), Reference(0.1, 1.2, 0.5, 1e-6, 50));
    }

    [Fact]
    public void The_step_size_limits_are_respected()
    {
        // Δ₀ = 0.3 grows to min(0.36, 0.35) for value 0; value 1 flips and shrinks to max(0.15, 0.2).
        MatchesReferenceForThreeUpdates(new Rprop(0.3, minStepSize: 0.2, maxStepSize: 0.35), Reference(0.3, 1.2, 0.5, 0.2, 0.35));
    }

    [Fact]
    public void Step_sizes_adapt_by_the_signs_only()
    {
        var rprop = new Rprop(0.1);
        var parameter = MakeParameter<double>([0.0, 0.0]);
        SetGradients(parameter, [1e-9, 1e9]);
        rprop.Update(parameter);
        parameter.Values.ToArray().Should().Equal(-0.1, -0.1);
        rprop.Update(parameter);
        parameter.Values.ToArray().Should().Equal(-0.1 - 0.1 * 1.2, -0.1 - 0.1 * 1.2);
        rprop.GetState(parameter)!.GetSlot("step_size").ToArray().Should().Equal(0.1 * 1.2, 0.1 * 1.2);
    }

    [Fact]
    public void The_learning_rate_is_the_initial_step_size_only()
    {
        var rprop = new Rprop(0.1);
        var parameter = MakeParameter<double>([0.0]);
        SetGradients(parameter, [1.0]);
        rprop.Update(parameter);
        rprop.LearningRate = 10;
        rprop.Update(parameter);
        parameter.Values[0].Should().BeApproximately(-0.1 - 0.12, 1e-15);
    }
}
