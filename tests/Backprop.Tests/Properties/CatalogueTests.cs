namespace Backprop.Tests.Properties;

/// <summary>The generators draw from every built-in: a new activation, loss or optimizer must be added to <see cref="Catalogue"/>.</summary>
public sealed class CatalogueTests
{
    [Fact]
    public void EveryBuiltInActivationIsGenerated() =>
        Catalogue.HiddenActivations.Select(c => c.Activation.GetType()).Distinct()
            .Should().BeEquivalentTo(BuiltIns<IActivation>());

    [Fact]
    public void EveryBuiltInLossIsGenerated() =>
        Catalogue.Heads.Select(h => h.Loss.GetType()).Distinct()
            .Should().BeEquivalentTo(BuiltIns<ILossFunction>());

    [Fact]
    public void EveryBuiltInOptimizerIsGenerated() =>
        Catalogue.Optimizers.Select(o => o.Create().GetType()).Distinct()
            .Should().BeEquivalentTo(BuiltIns<IOptimizer>());

    [Fact]
    public void EveryKinkedActivationIsMarkedSo()
    {
        // KinkClearance only protects the activations marked kinked: f′ or f″ must be continuous at 0 for the others.
        Catalogue.HiddenActivations.Where(c => c.Kinked).Select(c => c.Activation.GetType()).Distinct()
            .Should().BeEquivalentTo([typeof(ReLU), typeof(LeakyReLU), typeof(Elu)]);
    }

    [Fact]
    public void EveryLipschitzBoundHolds()
    {
        // KinkClearance's margins rest on |f′(z)| ≤ Lipschitz; sample f′ densely on [−8, 8].
        foreach (var choice in Catalogue.HiddenActivations.Where(c => c.Activation is ElementwiseActivation))
        {
            var activation = (ElementwiseActivation)choice.Activation;
            for (double z = -8; z <= 8; z += 1e-3)
            {
                Math.Abs(activation.Derivative(z)).Should().BeLessThanOrEqualTo(choice.Lipschitz, "{0}′({1})", choice.Label, z);
            }
        }
    }

    private static Type[] BuiltIns<TInterface>() =>
        typeof(Network<>).Assembly.GetExportedTypes()
            .Where(t => t.IsClass && !t.IsAbstract && typeof(TInterface).IsAssignableFrom(t))
            .ToArray();
}
