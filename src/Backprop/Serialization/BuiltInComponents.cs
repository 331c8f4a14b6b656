using System.Numerics;

namespace Backprop;

/// <summary>Registers the library's own layer, activation, initializer, loss and optimizer types, each under the name
/// its <see cref="ISerializableComponent.TypeName"/> gives, exactly as a user registers theirs.</summary>
internal static class BuiltInComponents
{
    internal static void Register(ModelRegistry registry)
    {
        registry
            .AddLayer("dense", new DenseFactory())
            .AddLayer("dropout", new DropoutFactory())
            .AddLayer("activation", new ActivationLayerFactory())
            .AddLayer("max_pool2d", new MaxPool2DFactory())
            .AddLayer("average_pool2d", new AveragePool2DFactory())
            .AddLayer("global_average_pool2d", new GlobalAveragePool2DFactory())
            .AddLayer("embedding", new EmbeddingFactory())
            .AddLayer("residual", new ResidualFactory())
            .AddLayer("batch_norm", new BatchNormFactory())
            .AddLayer("layer_norm", new LayerNormFactory())
            .AddLayer("conv2d", new Conv2DFactory());

        registry
            .AddActivation("identity", _ => Activations.Identity)
            .AddActivation("sigmoid", _ => Activations.Sigmoid)
            .AddActivation("tanh", _ => Activations.Tanh)
            .AddActivation("relu", _ => Activations.ReLU)
            .AddActivation("softplus", _ => Activations.Softplus)
            .AddActivation("gelu", _ => Activations.GELU)
            .AddActivation("silu", _ => Activations.SiLU)
            .AddActivation("softmax", _ => Activations.Softmax)
            .AddActivation("leaky_relu", s => new LeakyReLU(s.GetDouble("alpha")))
            .AddActivation("elu", s => new Elu(s.GetDouble("alpha")));

        registry
            .AddInitializer("glorot_uniform", _ => Initializers.GlorotUniform)
            .AddInitializer("he_uniform", _ => Initializers.HeUniform)
            .AddInitializer("he_normal", _ => Initializers.HeNormal)
            .AddInitializer("uniform", s => Initializers.Uniform(s.GetDouble("limit")));

        registry
            .AddLoss("mse", s => new MeanSquaredError(Reduction(s)))
            .AddLoss("mae", s => new MeanAbsoluteError(Reduction(s)))
            .AddLoss("huber", s => new Huber(s.GetDouble("delta"), Reduction(s)))
            .AddLoss("binary_cross_entropy", s => new BinaryCrossEntropy(Reduction(s)))
            .AddLoss("binary_cross_entropy_with_logits", s => new BinaryCrossEntropyWithLogits(Reduction(s)))
            .AddLoss("categorical_cross_entropy", s => new CategoricalCrossEntropy(Reduction(s)))
            .AddLoss("categorical_cross_entropy_with_logits", s => new CategoricalCrossEntropyWithLogits(Reduction(s)));

        registry
            .AddOptimizer("sgd", s => new Sgd(s.GetDouble("learning_rate"), s.GetDouble("momentum"), s.GetBoolean("nesterov"), s.GetDouble("weight_decay")))
            .AddOptimizer("adam", s => new Adam(s.GetDouble("learning_rate"), s.GetDouble("beta1"), s.GetDouble("beta2"), s.GetDouble("epsilon"), s.GetDouble("weight_decay")))
            .AddOptimizer("adamw", s => new AdamW(s.GetDouble("learning_rate"), s.GetDouble("weight_decay"), s.GetDouble("beta1"), s.GetDouble("beta2"), s.GetDouble("epsilon")))
            .AddOptimizer("rmsprop", s => new RmsProp(s.GetDouble("learning_rate"), s.GetDouble("alpha"), s.GetDouble("epsilon"), s.GetDouble("momentum"), s.GetBoolean("centered"), s.GetDouble("weight_decay")))
            .AddOptimizer("adagrad", s => new Adagrad(s.GetDouble("learning_rate"), s.GetDouble("epsilon"), s.GetDouble("initial_accumulator_value"), s.GetDouble("learning_rate_decay"), s.GetDouble("weight_decay")))
            .AddOptimizer("rprop", s => new Rprop(s.GetDouble("learning_rate"), s.GetDouble("increase_factor"), s.GetDouble("decrease_factor"), s.GetDouble("min_step_size"), s.GetDouble("max_step_size")));
    }

    private static LossReduction Reduction(ComponentSettings settings) => settings.GetString("reduction") switch
    {
        "mean" => LossReduction.Mean,
        "sum" => LossReduction.Sum,
        string other => throw new ArgumentException($"The reduction must be \"mean\" or \"sum\", but it is \"{other}\".", nameof(settings)),
    };

    private sealed class DenseFactory : ILayerFactory
    {
        public Layer<T> Create<T>(ComponentSettings settings)
            where T : unmanaged, IFloatingPointIeee754<T> =>
            new Dense<T>(settings.GetInt32("units"), settings.GetActivation("activation"), settings.GetInitializer("initializer"))
            {
                L1 = settings.GetDouble("l1"),
                L2 = settings.GetDouble("l2"),
            };
    }

    private sealed class EmbeddingFactory : ILayerFactory
    {
        public Layer<T> Create<T>(ComponentSettings settings)
            where T : unmanaged, IFloatingPointIeee754<T> => Embedding<T>.FromSettings(settings);
    }

    private sealed class ResidualFactory : ILayerFactory
    {
        public Layer<T> Create<T>(ComponentSettings settings)
            where T : unmanaged, IFloatingPointIeee754<T> => Residual<T>.FromSettings(settings);
    }

    private sealed class Conv2DFactory : ILayerFactory
    {
        public Layer<T> Create<T>(ComponentSettings settings)
            where T : unmanaged, IFloatingPointIeee754<T> => Conv2D<T>.FromSettings(settings);
    }

    private sealed class ActivationLayerFactory : ILayerFactory
    {
        public Layer<T> Create<T>(ComponentSettings settings)
            where T : unmanaged, IFloatingPointIeee754<T> => new ActivationLayer<T>(settings.GetActivation("activation"));
    }

    private sealed class DropoutFactory : ILayerFactory
    {
        public Layer<T> Create<T>(ComponentSettings settings)
            where T : unmanaged, IFloatingPointIeee754<T> =>
            new Dropout<T>(settings.GetDouble("rate"), settings.GetInt64("seed"));
    }

    private static (int Height, int Width) Pair(ComponentSettings settings, string key)
    {
        long[] values = settings.GetInt64s(key);
        if (values.Length != 2 || values.Any(v => v < 1 || v > int.MaxValue))
        {
            throw new ArgumentException($"\"{key}\" must be two counts (height, width), each in [1, {int.MaxValue}], but it is [{string.Join(", ", values)}].", nameof(settings));
        }

        return ((int)values[0], (int)values[1]);
    }

    private sealed class MaxPool2DFactory : ILayerFactory
    {
        public Layer<T> Create<T>(ComponentSettings settings)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var (height, width) = Pair(settings, "window");
            var (strideHeight, strideWidth) = Pair(settings, "strides");
            return new MaxPool2D<T>(height, width, strideHeight, strideWidth, Padding.Read(settings));
        }
    }

    private sealed class AveragePool2DFactory : ILayerFactory
    {
        public Layer<T> Create<T>(ComponentSettings settings)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            var (height, width) = Pair(settings, "window");
            var (strideHeight, strideWidth) = Pair(settings, "strides");
            return new AveragePool2D<T>(height, width, strideHeight, strideWidth, Padding.Read(settings))
            {
                CountIncludePad = settings.GetBoolean("count_include_pad"),
            };
        }
    }

    private sealed class GlobalAveragePool2DFactory : ILayerFactory
    {
        public Layer<T> Create<T>(ComponentSettings settings)
            where T : unmanaged, IFloatingPointIeee754<T> =>
            new GlobalAveragePool2D<T>();
    }

    private sealed class BatchNormFactory : ILayerFactory
    {
        public Layer<T> Create<T>(ComponentSettings settings)
            where T : unmanaged, IFloatingPointIeee754<T> =>
            new BatchNorm<T>(settings.GetDouble("momentum"), settings.GetDouble("epsilon"));
    }

    private sealed class LayerNormFactory : ILayerFactory
    {
        public Layer<T> Create<T>(ComponentSettings settings)
            where T : unmanaged, IFloatingPointIeee754<T> =>
            new LayerNorm<T>(settings.GetDouble("epsilon"));
    }
}
