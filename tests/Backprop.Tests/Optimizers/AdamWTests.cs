using static Backprop.Tests.Optimizers.OptimizerTestKit;

namespace Backprop.Tests.Optimizers;

public class AdamWTests
{
    /// <summary>Loshchilov and Hutter (2019), Algorithm 2, with the decay scaled by η as PyTorch does, written plainly.</summary>
    private static Action<double[], double[], int> Reference(double eta, double lambda, double beta1, double beta2, double epsilon)
    {
        double[] m = new double[3], v = new double[3];
        return (w, g, t) =>
        {
            for (int i = 0; i < w.Length; i++)
            {
                w[i] = w[i] - eta * lambda * w[i];
                m[i] = beta1 * m[i] + (1 - beta1) * g[i];
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
                double mHat = m[i] / (1 - Math.Pow(beta1, t));
                double vHat = v[i] / (1 - Math.Pow(beta2, t));
                w[i] = w[i] - eta * mHat / (Math.Sqrt(vHat) + epsilon);
            }
        };
    }

    [Fact]
    public void The_first_three_updates_follow_the_paper()
    {
        MatchesReferenceForThreeUpdates(new AdamW(0.01, weightDecay: 0.1), Reference(0.01, 0.1, 0.9, 0.999, 1e-8));
    }

    [Fact]
    public void Other_hyper_parameters_follow_the_rule()
    {
        MatchesReferenceForThreeUpdates(
            new AdamW(0.05, weightDecay: 0.3, beta1: 0.5, beta2: 0.9, epsilon: 1e-2),
            Reference(0.05, 0.3, 0.5, 0.9, 1e-2));
    }

    [Fact]
    public void Decay_is_decoupled_from_the_gradient()
    {
        // With g = 0 Adam's step is 0, so only the decay moves w: w·(1 − η·λ). Coupled L2 (Adam's weightDecay)
        // would instead take a full normalised step of about η.
        var parameter = MakeParameter<double>([2.0]);
        new AdamW(0.1, weightDecay: 0.5).Update(parameter);
        parameter.Values[0].Should().Be(2.0 * (1 - 0.1 * 0.5));

        var coupled = MakeParameter<double>([2.0]);
        new Adam(0.1, weightDecay: 0.5).Update(coupled);
        coupled.Values[0].Should().BeApproximately(2.0 - 0.1, 1e-6);
    }

    [Fact]
    public void Defaults_are_pytorchs()
    {
        var adamW = new AdamW();
        (adamW.LearningRate, adamW.WeightDecay, adamW.Beta1, adamW.Beta2, adamW.Epsilon).Should().Be((1e-3, 1e-2, 0.9, 0.999, 1e-8));
    }
}
