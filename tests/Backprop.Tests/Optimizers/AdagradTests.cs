using static Backprop.Tests.Optimizers.OptimizerTestKit;

namespace Backprop.Tests.Optimizers;

public class AdagradTests
{
    /// <summary>Duchi, Hazan and Singer (2011), diagonal form, with PyTorch's options, written plainly.</summary>
    private static Action<double[], double[], int> Reference(double eta, double epsilon, double initial, double decay, double l2)
    {
        double[] sum = [initial, initial, initial];
        return (w, g, t) =>
        {
            double stepSize = eta / (1 + (t - 1) * decay);
            for (int i = 0; i < w.Length; i++)
            {
                double gi = g[i] + l2 * w[i];
                sum[i] += gi * gi;
                w[i] -= stepSize * gi / (Math.Sqrt(sum[i]) + epsilon);
            }
        };
    }

    [Fact]
    public void The_first_three_updates_follow_the_paper()
    {
        MatchesReferenceForThreeUpdates(new Adagrad(0.1), Reference(0.1, 1e-10, 0, 0, 0));
    }

    [Fact]
    public void Initial_accumulator_learning_rate_decay_and_weight_decay_follow_the_rule()
    {
        MatchesReferenceForThreeUpdates(
            new Adagrad(0.1, epsilon: 1e-3, initialAccumulatorValue: 0.5, learningRateDecay: 0.2, weightDecay: 0.05),
            Reference(0.1, 1e-3, 0.5, 0.2, 0.05));
    }
}
