using static Backprop.Tests.Optimizers.OptimizerTestKit;

namespace Backprop.Tests.Optimizers;

public class RmsPropTests
{
    /// <summary>Hinton's lecture 6e in PyTorch's form, with its momentum, centring and L2 options, written plainly.</summary>
    private static Action<double[], double[], int> Reference(double eta, double alpha, double epsilon, double mu, bool centered, double l2)
    {
        double[] s = new double[3], b = new double[3], gBar = new double[3];
        return (w, g, _) =>
        {
            for (int i = 0; i < w.Length; i++)
            {
                double gi = g[i] + l2 * w[i];
                s[i] = alpha * s[i] + (1 - alpha) * gi * gi;
                double d;
                if (centered)
                {
                    gBar[i] = alpha * gBar[i] + (1 - alpha) * gi;
                    d = Math.Sqrt(s[i] - gBar[i] * gBar[i]) + epsilon;
                }
                else
                {
                    d = Math.Sqrt(s[i]) + epsilon;
                }

                if (mu > 0)
                {
                    b[i] = mu * b[i] + gi / d;
                    w[i] -= eta * b[i];
                }
                else
                {
                    w[i] -= eta * gi / d;
                }
            }
        };
    }

    [Fact]
    public void The_first_three_updates_follow_the_rule()
    {
        MatchesReferenceForThreeUpdates(new RmsProp(0.01), Reference(0.01, 0.99, 1e-8, 0, false, 0));
    }

    [Fact]
    public void Momentum_follows_the_rule()
    {
        MatchesReferenceForThreeUpdates(new RmsProp(0.02, alpha: 0.9, momentum: 0.9), Reference(0.02, 0.9, 1e-8, 0.9, false, 0));
    }

    [Fact]
    public void Centred_with_momentum_and_weight_decay_follows_the_rule()
    {
        MatchesReferenceForThreeUpdates(
            new RmsProp(0.01, alpha: 0.9, epsilon: 1e-4, momentum: 0.5, centered: true, weightDecay: 0.1),
            Reference(0.01, 0.9, 1e-4, 0.5, true, 0.1));
    }

    [Fact]
    public void Slots_depend_on_the_options()
    {
        new RmsProp().SlotNames.Should().Equal("square_avg");
        new RmsProp(momentum: 0.9).SlotNames.Should().Equal("square_avg", "momentum_buffer");
        new RmsProp(centered: true).SlotNames.Should().Equal("square_avg", "grad_avg");
        new RmsProp(momentum: 0.9, centered: true).SlotNames.Should().Equal("square_avg", "momentum_buffer", "grad_avg");
    }

    [Fact]
    public void Defaults_are_pytorchs()
    {
        var rmsProp = new RmsProp();
        (rmsProp.LearningRate, rmsProp.Alpha, rmsProp.Epsilon, rmsProp.Momentum, rmsProp.Centered).Should().Be((1e-2, 0.99, 1e-8, 0.0, false));
    }
}
