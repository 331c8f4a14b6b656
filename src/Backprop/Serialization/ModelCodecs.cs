using System.Globalization;

namespace Backprop;

/// <summary>
/// Format version 1's names and positional parameters of the built-in activations, initializers, losses and optimizers,
/// for reading version-1 files (version 2 stores every component through <see cref="SettingsCodec"/> and the
/// <see cref="ModelRegistry"/>). A name either maps to one of these built-ins or the file is rejected.
/// </summary>
internal static class ModelCodecs
{
    private const int MaxParameters = 8;

    // ---- activations ----

    public static IActivation Activation(string name, double[] parameters, long offset) => (name, parameters.Length) switch
    {
        ("identity", 0) => Activations.Identity,
        ("sigmoid", 0) => Activations.Sigmoid,
        ("tanh", 0) => Activations.Tanh,
        ("relu", 0) => Activations.ReLU,
        ("softplus", 0) => Activations.Softplus,
        ("gelu", 0) => Activations.GELU,
        ("silu", 0) => Activations.SiLU,
        ("softmax", 0) => Activations.Softmax,
        ("leaky_relu", 1) => Construct(() => new LeakyReLU(parameters[0]), name, offset),
        ("elu", 1) => Construct(() => new Elu(parameters[0]), name, offset),
        _ => throw ModelFormatError.At($"Unknown activation '{name}' with {parameters.Length} parameter(s)", offset),
    };

    // ---- initializers ----

    public static IInitializer Initializer(string name, double[] parameters, long offset) => (name, parameters.Length) switch
    {
        ("glorot_uniform", 0) or ("custom", 0) => Initializers.GlorotUniform,
        ("he_uniform", 0) => Initializers.HeUniform,
        ("he_normal", 0) => Initializers.HeNormal,
        ("uniform", 1) => Construct(() => Initializers.Uniform(parameters[0]), name, offset),
        _ => throw ModelFormatError.At($"Unknown initializer '{name}' with {parameters.Length} parameter(s)", offset),
    };

    // ---- losses ----

    public static ILossFunction Loss(string name, double[] parameters, long offset)
    {
        if (parameters.Length < 1 || parameters[0] is not (0 or 1))
        {
            throw ModelFormatError.At($"The loss '{name}' needs its reduction (0 = mean, 1 = sum) as its first parameter", offset);
        }

        var reduction = (LossReduction)(int)parameters[0];
        return (name, parameters.Length) switch
        {
            ("mse", 1) => new MeanSquaredError(reduction),
            ("mae", 1) => new MeanAbsoluteError(reduction),
            ("huber", 2) => Construct(() => new Huber(parameters[1], reduction), name, offset),
            ("binary_cross_entropy", 1) => new BinaryCrossEntropy(reduction),
            ("binary_cross_entropy_with_logits", 1) => new BinaryCrossEntropyWithLogits(reduction),
            ("categorical_cross_entropy", 1) => new CategoricalCrossEntropy(reduction),
            ("categorical_cross_entropy_with_logits", 1) => new CategoricalCrossEntropyWithLogits(reduction),
            _ => throw ModelFormatError.At($"Unknown loss '{name}' with {parameters.Length} parameter(s)", offset),
        };
    }

    // ---- optimizers ----

    public static Optimizer Optimizer(string name, double learningRate, double[] p, long offset) => (name, p.Length) switch
    {
        ("sgd", 3) => Construct(() => new Sgd(learningRate, p[0], Flag(p[1], name, offset), p[2]), name, offset),
        ("adam", 4) => Construct(() => new Adam(learningRate, p[0], p[1], p[2], p[3]), name, offset),
        ("adamw", 4) => Construct(() => new AdamW(learningRate, p[0], p[1], p[2], p[3]), name, offset),
        ("rmsprop", 5) => Construct(() => new RmsProp(learningRate, p[0], p[1], p[2], Flag(p[3], name, offset), p[4]), name, offset),
        ("adagrad", 4) => Construct(() => new Adagrad(learningRate, p[0], p[1], p[2], p[3]), name, offset),
        ("rprop", 4) => Construct(() => new Rprop(learningRate, p[0], p[1], p[2], p[3]), name, offset),
        _ => throw ModelFormatError.At($"Unknown optimizer '{name}' with {p.Length} parameter(s)", offset),
    };

    public static double[] Parameters(ref ModelReader reader, string what)
    {
        int count = reader.Byte(what + " count");
        if (count > MaxParameters)
        {
            throw ModelFormatError.At($"{what} count is {count}; at most {MaxParameters} are allowed", reader.Position - 1);
        }

        var values = new double[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = reader.FiniteDouble(string.Create(CultureInfo.InvariantCulture, $"{what} {i}"));
        }

        return values;
    }

    private static bool Flag(double value, string name, long offset) => value switch
    {
        0 => false,
        1 => true,
        _ => throw ModelFormatError.At(FormattableString.Invariant($"A yes/no setting of '{name}' is {value}; it must be 0 or 1"), offset),
    };

    /// <summary>Runs a constructor on values from the file, turning its argument checks into format errors.</summary>
    private static TResult Construct<TResult>(Func<TResult> create, string name, long offset)
    {
        try
        {
            return create();
        }
        catch (ArgumentException e)
        {
            throw ModelFormatError.At($"The settings of '{name}' are invalid: {e.Message}", offset);
        }
    }
}
