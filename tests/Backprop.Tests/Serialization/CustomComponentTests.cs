using System.Numerics;
using System.Numerics.Tensors;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Serialization;

/// <summary>A layer, an activation, a loss and an optimizer written outside the library, registered by name, save, load,
/// resume and export like the built-ins.</summary>
public class CustomComponentTests
{
    private static ModelRegistry Registry() => new ModelRegistry()
        .AddLayer("test.scale_shift", new ScaleShiftFactory())
        .AddActivation("test.softsign", _ => new Softsign())
        .AddLoss("test.half_squared", s => new HalfSquaredError(s.GetDouble("weight")))
        .AddOptimizer("test.momentum", s => new PlainMomentum(s.GetDouble("learning_rate"), s.GetDouble("momentum")));

    private static Network<T> MakeNetwork<T>(int seed = 3, int inputs = 5, int hidden = 7)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new(inputs, seed,
            new ScaleShift<T>(initialScale: 1.5),
            new Dense<T>(hidden, new Softsign()) { L2 = 1e-3 },
            new Dropout<T>(0.2, seed: 4),
            new Dense<T>(3));

    private static void ShouldPredictIdentically<T>(Network<T> expected, Network<T> actual)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        actual.ToString().Should().Be(expected.ToString());
        var x = TestData.Random<T>(9, expected.InputSize, seed: 17, scale: 3);
        actual.Predict(x).Enumerate().Select(v => double.CreateChecked(v)).Select(BitConverter.DoubleToInt64Bits)
            .Should().Equal(expected.Predict(x).Enumerate().Select(v => double.CreateChecked(v)).Select(BitConverter.DoubleToInt64Bits));
        Training.TrainerTests.Snapshot(actual).Should().BeEquivalentTo(Training.TrainerTests.Snapshot(expected), o => o.WithStrictOrdering());
    }

    private static Trainer<T> MakeTrainer<T>(Network<T> network)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        new(network, new HalfSquaredError(0.5), new PlainMomentum(0.05, 0.9));

    private static (Matrix<T> X, Matrix<T> Y) Data<T>()
        where T : unmanaged, IFloatingPointIeee754<T> =>
        (TestData.Random<T>(40, 5, seed: 21), TestData.Random<T>(40, 3, seed: 22));

    [Fact]
    public void A_trained_network_with_custom_components_saves_and_loads_bit_identically()
    {
        var network = MakeNetwork<float>();
        var (x, y) = Data<float>();
        MakeTrainer(network).Fit(x, y, new FitOptions { Epochs = 2, BatchSize = 8, Seed = 1 });
        using var stream = new MemoryStream();
        network.Save(stream);
        stream.Position = 0;
        ShouldPredictIdentically(network, Network<float>.Load(stream, Registry()));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Resuming_a_checkpoint_with_custom_loss_and_optimizer_equals_uninterrupted_training(bool useDouble)
    {
        if (useDouble)
        {
            ResumeEqualsUninterrupted<double>();
        }
        else
        {
            ResumeEqualsUninterrupted<float>();
        }
    }

    private static void ResumeEqualsUninterrupted<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (x, y) = Data<T>();
        var uninterrupted = MakeTrainer(MakeNetwork<T>());
        uninterrupted.Fit(x, y, new FitOptions { Epochs = 5, BatchSize = 8, Seed = 5 });

        var first = MakeTrainer(MakeNetwork<T>());
        first.Fit(x, y, new FitOptions { Epochs = 2, BatchSize = 8, Seed = 5 });
        using var checkpoint = new MemoryStream();
        ModelFile.SaveCheckpoint(first, checkpoint);
        checkpoint.Position = 0;
        var resumed = Trainer<T>.LoadCheckpoint(checkpoint, Registry());
        resumed.EpochsCompleted.Should().Be(2);
        resumed.Loss.Should().BeOfType<HalfSquaredError>().Which.Weight.Should().Be(0.5);
        resumed.Optimizer.Should().BeOfType<PlainMomentum>().Which.Momentum.Should().Be(0.9);
        resumed.Fit(x, y, new FitOptions { Epochs = 3, BatchSize = 8, Seed = 5 });

        Properties.BitAssert.SameParameters(uninterrupted.Network, resumed.Network, "every parameter");
    }

    [Fact]
    public void A_custom_elementwise_optimizer_trains_bit_identically_on_one_and_two_threads()
    {
        double[][] Train(int threads)
        {
            var network = new Network<double>(200, seed: 4, new ScaleShift<double>(1), new Dense<double>(100, Activations.Tanh), new Dense<double>(3))
            {
                MaxDegreeOfParallelism = threads,
            };
            var x = TestData.Random<double>(64, 200, seed: 8);
            var y = TestData.Random<double>(64, 3, seed: 9);
            new Trainer<double>(network, Losses.MeanSquaredError, new PlainMomentum(0.01, 0.9)).Fit(x, y, new FitOptions { Epochs = 2, BatchSize = 32 });
            return Training.TrainerTests.Snapshot(network);
        }

        var one = Train(1);
        var two = Train(2);
        for (int i = 0; i < one.Length; i++)
        {
            two[i].Select(BitConverter.DoubleToInt64Bits).Should().Equal(one[i].Select(BitConverter.DoubleToInt64Bits), $"parameter {i}");
        }
    }

    [Fact]
    public void Loading_without_the_registrations_names_each_missing_type()
    {
        var trainer = MakeTrainer(MakeNetwork<double>());
        using var checkpoint = new MemoryStream();
        ModelFile.SaveCheckpoint(trainer, checkpoint);

        checkpoint.Position = 0;
        FluentActions.Invoking(() => Network<double>.Load(checkpoint)).Should().Throw<InvalidDataException>()
            .WithMessage("*layer type 'test.scale_shift'*AddLayer*");

        checkpoint.Position = 0;
        var withoutActivation = new ModelRegistry().AddLayer("test.scale_shift", new ScaleShiftFactory());
        FluentActions.Invoking(() => Network<double>.Load(checkpoint, withoutActivation)).Should().Throw<InvalidDataException>()
            .WithMessage("*activation type 'test.softsign'*AddActivation(\"test.softsign\"*");

        checkpoint.Position = 0;
        var withoutLoss = new ModelRegistry().AddLayer("test.scale_shift", new ScaleShiftFactory()).AddActivation("test.softsign", _ => new Softsign());
        FluentActions.Invoking(() => Trainer<double>.LoadCheckpoint(checkpoint, withoutLoss)).Should().Throw<InvalidDataException>()
            .WithMessage("*loss type 'test.half_squared'*AddLoss*");

        checkpoint.Position = 0;
        var withoutOptimizer = withoutLoss.AddLoss("test.half_squared", s => new HalfSquaredError(s.GetDouble("weight")));
        FluentActions.Invoking(() => Trainer<double>.LoadCheckpoint(checkpoint, withoutOptimizer)).Should().Throw<InvalidDataException>()
            .WithMessage("*optimizer type 'test.momentum'*AddOptimizer*");
    }

    [Fact]
    public void The_custom_layer_and_activation_export_their_own_onnx_nodes_and_run_in_onnx_runtime()
    {
        var network = MakeNetwork<float>(inputs: 4, hidden: 6);
        var x = TestData.Random<float>(11, 4, seed: 5, scale: 2);
        double worst = OnnxExportTests.CompareWithOnnxRuntime(network, x, tolerance: 1e-5);
        worst.Should().BeLessThan(1e-5);
    }

    public static TheoryData<string> BuiltInComponentNames() =>
    [
        .. BuiltIns().Select(c => c.TypeName),
    ];

    private static IEnumerable<ISerializableComponent> BuiltIns() =>
    [
        new Dense<double>(3, new LeakyReLU(0.2), Initializers.Uniform(0.4)) { L1 = 1e-4, L2 = 2e-3 },
        new Dropout<double>(0.3, seed: 12),
        Activations.Identity, Activations.Sigmoid, Activations.Tanh, Activations.ReLU, Activations.Softplus,
        Activations.GELU, Activations.SiLU, Activations.Softmax, new LeakyReLU(0.05), new Elu(0.7),
        Initializers.GlorotUniform, Initializers.HeUniform, Initializers.HeNormal, Initializers.Uniform(0.25),
        new MeanSquaredError(LossReduction.Sum), new MeanAbsoluteError(), new Huber(0.7, LossReduction.Sum), new BinaryCrossEntropy(),
        new BinaryCrossEntropyWithLogits(LossReduction.Sum), new CategoricalCrossEntropy(), new CategoricalCrossEntropyWithLogits(LossReduction.Sum),
        new Sgd(0.1, momentum: 0.9, nesterov: true, weightDecay: 1e-4), new Adam(1e-3, beta1: 0.8, beta2: 0.95, epsilon: 1e-6, weightDecay: 1e-5),
        new AdamW(2e-3, weightDecay: 0.02), new RmsProp(1e-2, alpha: 0.9, epsilon: 1e-7, momentum: 0.3, centered: true, weightDecay: 1e-4),
        new Adagrad(0.2, epsilon: 1e-9, initialAccumulatorValue: 0.1, learningRateDecay: 1e-3, weightDecay: 1e-4),
        new Rprop(0.02, increaseFactor: 1.3, decreaseFactor: 0.4, minStepSize: 1e-7, maxStepSize: 10),
    ];

    [Theory]
    [MemberData(nameof(BuiltInComponentNames))]
    public void Every_built_in_component_round_trips_its_settings_through_the_registry(string typeName)
    {
        var component = BuiltIns().Single(c => c.TypeName == typeName);
        var description = ComponentDescription.Of(component);
        var writer = new ModelWriter();
        SettingsCodec.WriteComponent(writer, description, depth: 0);
        byte[] bytes = writer.ToArray();
        var reader = new ModelReader(bytes);
        var read = SettingsCodec.ReadComponent(ref reader, "component", depth: 0);
        reader.ExpectEnd("the component");

        var registry = ModelRegistry.BuiltIns;
        ISerializableComponent recreated = component switch
        {
            Layer<double> => registry.CreateLayer<double>(read) as ISerializableComponent ?? throw new InvalidOperationException(),
            IActivation => registry.CreateActivation(read),
            IInitializer => registry.CreateInitializer(read),
            ILossFunction => registry.CreateLoss(read),
            _ => registry.CreateOptimizer(read),
        };

        recreated.GetType().Should().Be(component.GetType());
        ComponentDescription.Of(recreated).ToString().Should().Be(description.ToString());
    }

    [Fact]
    public void Nesting_deeper_than_the_limit_is_refused_on_save_and_on_load()
    {
        var settings = new ComponentSettings();
        var inner = new ComponentDescription("leaf", new ComponentSettings());
        for (int i = 0; i <= ComponentSettings.MaxDepth + 1; i++)
        {
            var outer = new ComponentSettings();
            outer.AddRaw("inner", inner);
            inner = new ComponentDescription("node", outer);
        }

        FluentActions.Invoking(() => SettingsCodec.WriteComponent(new ModelWriter(), inner, depth: 0)).Should().Throw<NotSupportedException>().WithMessage("*nested*");
    }

    /// <summary>y = x ⊙ s + t, with a trainable scale s and shift t per input value.</summary>
    private sealed class ScaleShift<T>(double initialScale) : Layer<T>, ISerializableComponent, IOnnxExportable
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private Parameter<T>? _scale;
        private Parameter<T>? _shift;

        public string TypeName => "test.scale_shift";

        public override string SavedForBackwardName => "none";

        public override int SavedForBackwardSize => 0;

        public void WriteSettings(ComponentSettings settings) => settings.Set("initial_scale", initialScale);

        public override string ToString() => "ScaleShift";

        public string ExportOnnx(OnnxGraph graph, string input)
        {
            string scale = graph.AddInitializer<T>("scale", _scale!.Shape, _scale.Values);
            string shift = graph.AddInitializer<T>("shift", _shift!.Shape, _shift.Values);
            graph.AddNode("Mul", graph.Name("mul"), [input, scale], graph.Name("scaled"));
            graph.AddNode("Add", graph.Name("add"), [graph.Name("scaled"), shift], graph.Name("y"));
            return graph.Name("y");
        }

        protected override TensorShape OnBuild(TensorShape inputShape, DeterministicRandom random)
        {
            _scale = AddParameter("scale", new TensorShape(inputShape.Size), Initializers.Uniform(0.1), isRegularized: true);
            foreach (ref T s in _scale.Values)
            {
                s += T.CreateChecked(initialScale);
            }

            _shift = AddParameter("shift", new TensorShape(inputShape.Size), Initializers.Uniform(0.1));
            return inputShape;
        }

        protected override void OnForward(ReadOnlySpan<T> inputs, Span<T> saved, Span<T> activations, int rows, bool training)
        {
            int n = InputSize;
            for (int r = 0; r < rows; r++)
            {
                TensorPrimitives.FusedMultiplyAdd(inputs.Slice(r * n, n), _scale!.Values, _shift!.Values, activations.Slice(r * n, n));
            }
        }

        protected override void OnComputeLocalGradients(ReadOnlySpan<T> saved, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int rows) =>
            outputGradients.CopyTo(localGradients);

        protected override void OnBackpropagate(ReadOnlySpan<T> inputs, ReadOnlySpan<T> localGradients, Span<T> inputGradients, int rows)
        {
            int n = InputSize;
            Span<T> ds = _scale!.Gradients, dt = _shift!.Gradients;
            ds.Clear();
            dt.Clear();
            for (int r = 0; r < rows; r++)
            {
                var delta = localGradients.Slice(r * n, n);
                for (int i = 0; i < n; i++)
                {
                    ds[i] += delta[i] * inputs[r * n + i];
                    dt[i] += delta[i];
                }

                if (!inputGradients.IsEmpty)
                {
                    TensorPrimitives.Multiply(delta, _scale.Values, inputGradients.Slice(r * n, n));
                }
            }
        }
    }

    private sealed class ScaleShiftFactory : ILayerFactory
    {
        public Layer<T> Create<T>(ComponentSettings settings)
            where T : unmanaged, IFloatingPointIeee754<T> => new ScaleShift<T>(settings.GetDouble("initial_scale"));
    }

    /// <summary>softsign: z / (1 + |z|), exported as Abs, Add, Div.</summary>
    private sealed class Softsign : ElementwiseActivation, IOnnxExportable
    {
        public override string Name => "test.softsign";

        public override TValue Apply<TValue>(TValue z) => z / (TValue.One + TValue.Abs(z));

        public override TValue Derivative<TValue>(TValue z)
        {
            TValue d = TValue.One + TValue.Abs(z);
            return TValue.One / (d * d);
        }

        public string ExportOnnx(OnnxGraph graph, string input)
        {
            string one = graph.AddScalar("test.softsign.one", 1f);
            graph.AddNode("Abs", graph.Name("softsign.abs"), [input], graph.Name("softsign.abs"));
            graph.AddNode("Add", graph.Name("softsign.add"), [graph.Name("softsign.abs"), one], graph.Name("softsign.denominator"));
            graph.AddNode("Div", graph.Name("softsign.div"), [input, graph.Name("softsign.denominator")], graph.Name("a"));
            return graph.Name("a");
        }
    }

    /// <summary>weight · Σ (y − t)² / 2 over the batch, averaged over rows.</summary>
    private sealed class HalfSquaredError(double weight) : ILossFunction
    {
        public double Weight => weight;

        public string Name => "test.half_squared";

        public LossReduction Reduction => LossReduction.Mean;

        public void WriteSettings(ComponentSettings settings) => settings.Set("weight", weight);

        public T Value<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, int width)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            double sum = 0;
            for (int i = 0; i < outputs.Length; i++)
            {
                double d = double.CreateChecked(outputs[i] - targets[i]);
                sum += d * d;
            }

            return T.CreateChecked(weight * sum / 2 / (outputs.Length / width));
        }

        public void Gradient<T>(ReadOnlySpan<T> outputs, ReadOnlySpan<T> targets, Span<T> outputGradients, int width)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            T scale = T.CreateChecked(weight / (outputs.Length / width));
            for (int i = 0; i < outputs.Length; i++)
            {
                outputGradients[i] = scale * (outputs[i] - targets[i]);
            }
        }
    }

    /// <summary>Heavy-ball momentum, implementing <see cref="IOptimizer"/> directly: v ← μ·v + g; w ← w − η·v.</summary>
    private sealed class PlainMomentum(double learningRate, double momentum) : IOptimizer
    {
        private static readonly string[] Slots = ["velocity"];
        private readonly Dictionary<object, object> _states = new(ReferenceEqualityComparer.Instance);

        public double LearningRate { get; set; } = learningRate;

        public double Momentum => momentum;

        public string TypeName => "test.momentum";

        public IReadOnlyList<string> SlotNames => Slots;

        public bool IsElementwise => true;

        public void WriteSettings(ComponentSettings settings) => settings.Set("learning_rate", LearningRate).Set("momentum", momentum);

        public void Update<T>(Parameter<T> parameter)
            where T : unmanaged, IFloatingPointIeee754<T> =>
            UpdateRange(parameter.Values, parameter.Gradients, BeginUpdate(parameter));

        public OptimizerState<T> BeginUpdate<T>(Parameter<T> parameter)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            if (!_states.TryGetValue(parameter, out object? state))
            {
                state = new OptimizerState<T>(parameter.Length, Slots);
                _states.Add(parameter, state);
            }

            var typed = (OptimizerState<T>)state;
            typed.Step++;
            return typed;
        }

        public void UpdateRange<T>(Span<T> values, ReadOnlySpan<T> gradients, OptimizerState<T> state)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            Span<T> velocity = state.GetSlot(0);
            T mu = T.CreateChecked(momentum), eta = T.CreateChecked(LearningRate);
            for (int i = 0; i < values.Length; i++)
            {
                velocity[i] = mu * velocity[i] + gradients[i];
                values[i] -= eta * velocity[i];
            }
        }

        public OptimizerState<T>? GetState<T>(Parameter<T> parameter)
            where T : unmanaged, IFloatingPointIeee754<T> =>
            _states.TryGetValue(parameter, out object? state) ? (OptimizerState<T>)state : null;

        public void RestoreState<T>(Parameter<T> parameter, long step, IReadOnlyList<T[]> slots)
            where T : unmanaged, IFloatingPointIeee754<T>
        {
            if (slots.Count != 1 || slots[0].Length != parameter.Length)
            {
                throw new ArgumentException("One velocity slot of the parameter's length is needed.", nameof(slots));
            }

            var state = new OptimizerState<T>(parameter.Length, Slots) { Step = step };
            slots[0].CopyTo(state.GetSlot(0));
            _states[parameter] = state;
        }
    }
}
