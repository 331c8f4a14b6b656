namespace Backprop.Tests.Properties;

/// <summary>Every choice the generators draw from.</summary>
public static class Catalogue
{
    public static readonly ActivationChoice Identity = new("identity", Activations.Identity, Kinked: false, Lipschitz: 1);
    public static readonly ActivationChoice Sigmoid = new("sigmoid", Activations.Sigmoid, Kinked: false, Lipschitz: 0.25);
    public static readonly ActivationChoice Tanh = new("tanh", Activations.Tanh, Kinked: false, Lipschitz: 1);
    public static readonly ActivationChoice Softmax = new("softmax", Activations.Softmax, Kinked: false, Lipschitz: 1);

    /// <summary>Every built-in activation (softmax too: it is valid in a hidden layer), the parametric ones also with a non-default parameter.</summary>
    public static readonly ActivationChoice[] HiddenActivations =
    [
        Identity,
        Sigmoid,
        Tanh,
        new("relu", Activations.ReLU, Kinked: true, Lipschitz: 1),
        new("leaky_relu", Activations.LeakyReLU, Kinked: true, Lipschitz: 1),
        new("leaky_relu(0.2)", new LeakyReLU(0.2), Kinked: true, Lipschitz: 1),
        new("elu", Activations.ELU, Kinked: true, Lipschitz: 1),
        new("elu(0.5)", new Elu(0.5), Kinked: true, Lipschitz: 1),
        new("softplus", Activations.Softplus, Kinked: false, Lipschitz: 1),
        // max over z of Φ(z) + z·φ(z) is 1.129 (at z = √2), of σ(z)(1 + z(1 − σ(z))) 1.100.
        new("gelu", Activations.GELU, Kinked: false, Lipschitz: 1.2),
        new("silu", Activations.SiLU, Kinked: false, Lipschitz: 1.2),
        Softmax,
    ];

    public static readonly InitializerChoice Glorot = new("glorot_uniform", Backprop.Initializers.GlorotUniform);

    public static readonly InitializerChoice[] Initializers =
    [
        Glorot,
        new("he_uniform", Backprop.Initializers.HeUniform),
        new("he_normal", Backprop.Initializers.HeNormal),
        new("uniform(0.5)", Backprop.Initializers.Uniform(0.5)),
    ];

    public static readonly Head SimplestHead = new("identity + mse", Identity, Losses.MeanSquaredError, TargetKind.Regression, 1, -1.5, 1.5);

    /// <summary>Every loss with output activations it is valid for.</summary>
    public static readonly Head[] Heads =
    [
        SimplestHead,
        new("identity + sse", Identity, Losses.SumSquaredError, TargetKind.Regression, 1, -1.5, 1.5),
        new("tanh + mse", Tanh, Losses.MeanSquaredError, TargetKind.Regression, 1, -0.9, 0.9),
        new("sigmoid + mse", Sigmoid, Losses.MeanSquaredError, TargetKind.Regression, 1, 0.05, 0.95),
        new("softmax + mse", Softmax, Losses.MeanSquaredError, TargetKind.OneHot, 2),
        new("identity + mae", Identity, Losses.MeanAbsoluteError, TargetKind.Regression, 1, -1.5, 1.5),
        new("tanh + mae(sum)", Tanh, new MeanAbsoluteError(LossReduction.Sum), TargetKind.Regression, 1, -0.9, 0.9),
        new("identity + huber(δ=1)", Identity, Losses.Huber, TargetKind.Regression, 1, -2.5, 2.5),
        new("tanh + huber(δ=0.3, sum)", Tanh, new Huber(0.3, LossReduction.Sum), TargetKind.Regression, 1, -1, 1),
        new("sigmoid + bce", Sigmoid, Losses.BinaryCrossEntropy, TargetKind.Binary, 1),
        new("sigmoid + bce(sum)", Sigmoid, new BinaryCrossEntropy(LossReduction.Sum), TargetKind.Binary, 1),
        new("identity + bce_with_logits", Identity, Losses.BinaryCrossEntropyWithLogits, TargetKind.Binary, 1),
        new("softmax + cross_entropy", Softmax, Losses.CrossEntropy, TargetKind.OneHot, 2),
        new("softmax + cross_entropy(sum)", Softmax, new CategoricalCrossEntropy(LossReduction.Sum), TargetKind.OneHot, 2),
        new("identity + cross_entropy_with_logits", Identity, Losses.CrossEntropyWithLogits, TargetKind.OneHot, 2),
    ];

    public static readonly OptimizerChoice SimplestOptimizer = new("sgd(0.05)", () => new Sgd(0.05));

    /// <summary>Every built-in optimizer, some with their options; rates small enough that 3 epochs never diverge.</summary>
    public static readonly OptimizerChoice[] Optimizers =
    [
        SimplestOptimizer,
        new("sgd(0.05, momentum 0.9)", () => new Sgd(0.05, momentum: 0.9)),
        new("sgd(0.05, nesterov 0.9, weight decay 1e-3)", () => new Sgd(0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-3)),
        new("adam(0.01)", () => new Adam(0.01)),
        new("adam(0.01, weight decay 1e-3)", () => new Adam(0.01, weightDecay: 1e-3)),
        new("adamw(0.01)", () => new AdamW(0.01)),
        new("rmsprop(0.01)", () => new RmsProp(0.01)),
        new("rmsprop(0.01, centered, momentum 0.5)", () => new RmsProp(0.01, momentum: 0.5, centered: true)),
        new("adagrad(0.05)", () => new Adagrad(0.05)),
        new("rprop(0.01)", () => new Rprop(0.01)),
    ];
}
