using System.Numerics;

namespace Backprop.Tests.Optimizers;

/// <summary>The trainer splits the update of a large parameter into ranges run on several threads; for an elementwise
/// optimizer the ranges must give exactly the bits of one whole update.</summary>
public class PartitionedUpdateTests
{
    [Theory]
    [MemberData(nameof(OptimizerTestKit.AllNames), MemberType = typeof(OptimizerTestKit))]
    public void Built_in_optimizers_are_elementwise(string name) =>
        ((Optimizer)OptimizerTestKit.Create(name)).CanUpdateRanges.Should().BeTrue();

    [Theory]
    [MemberData(nameof(OptimizerTestKit.AllNames), MemberType = typeof(OptimizerTestKit))]
    public void Ranges_give_the_bits_of_a_whole_update_in_float(string name) => AssertRangesMatchWhole<float>(name);

    [Theory]
    [MemberData(nameof(OptimizerTestKit.AllNames), MemberType = typeof(OptimizerTestKit))]
    public void Ranges_give_the_bits_of_a_whole_update_in_double(string name) => AssertRangesMatchWhole<double>(name);

    [Fact]
    public void A_custom_optimizer_is_not_split_unless_it_says_it_is_elementwise() =>
        new MeanCentredSgd(0.1).CanUpdateRanges.Should().BeFalse();

    [Fact]
    public void Training_with_a_custom_non_elementwise_optimizer_on_two_threads_equals_one_thread()
    {
        // The update of this optimizer depends on the whole parameter (its mean): split into ranges it would differ.
        double[][] Train(int threads)
        {
            var network = new Network<double>(200, seed: 4, new Dense<double>(100, Activations.Tanh), new Dense<double>(3, Activations.Softmax))
            {
                MaxDegreeOfParallelism = threads,
            };
            var x = TestData.Random<double>(64, 200, seed: 8);
            int[] labels = Enumerable.Range(0, 64).Select(i => i % 3).ToArray();
            new Trainer<double>(network, Losses.CrossEntropy, new MeanCentredSgd(0.05)).Fit(x, labels, new FitOptions { Epochs = 2, BatchSize = 32 });
            return Backprop.Tests.Training.TrainerTests.Snapshot(network);
        }

        Train(2).Should().BeEquivalentTo(Train(1), o => o.WithStrictOrdering());
    }

    private static void AssertRangesMatchWhole<T>(string name)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Lengths around the 64-value range alignment, a prime, and one of a layer's weight matrices.
        foreach (int length in new[] { 1, 63, 64, 65, 1031, 100_352 })
        {
            foreach (int parts in new[] { 2, 3, 7 })
            {
                var whole = (Optimizer)OptimizerTestKit.Create(name);
                var split = (Optimizer)OptimizerTestKit.Create(name);
                var random = new DeterministicRandom(length * 31 + parts);
                var a = MakeParameter<T>(length, random);
                var b = MakeParameter<T>(length, random);
                a.Values.CopyTo(b.Values);
                for (int step = 0; step < 4; step++)
                {
                    for (int i = 0; i < length; i++)
                    {
                        // Gradients of both signs, some exactly 0 (for Rprop's sign logic), of varied magnitude.
                        double g = random.NextDouble() < 0.1 ? 0 : (random.NextDouble() - 0.5) * Math.Pow(10, random.NextInt32(6) - 4);
                        a.Gradients[i] = b.Gradients[i] = T.CreateChecked(g);
                    }

                    whole.Update(a);
                    var state = split.BeginUpdate(b);
                    int start = 0;
                    for (int part = 0; part < parts; part++)
                    {
                        // Unaligned ranges of uneven lengths: stricter than the trainer's, which cut at multiples of 64.
                        int end = part == parts - 1 ? length : Math.Min(length, start + random.NextInt32(2 * length / parts + 2));
                        split.UpdateRange(b, state, part, parts, start, end - start);
                        start = end;
                    }

                    for (int i = 0; i < length; i++)
                    {
                        if (!a.Values[i].Equals(b.Values[i]))
                        {
                            Assert.Fail($"{name}, {typeof(T).Name}, length {length}, {parts} parts, step {step + 1}: value {i} is {b.Values[i]} split but {a.Values[i]} whole.");
                        }
                    }
                }

                var wholeSlots = whole.GetState(a)!;
                var splitSlots = split.GetState(b)!;
                splitSlots.Step.Should().Be(wholeSlots.Step);
                for (int s = 0; s < wholeSlots.SlotCount; s++)
                {
                    splitSlots.GetSlot(s).ToArray().Should().Equal(wholeSlots.GetSlot(s).ToArray(), "slot {0} of {1}", s, name);
                }
            }
        }
    }

    private static Parameter<T> MakeParameter<T>(int length, DeterministicRandom random)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var parameter = new Network<T>(length, new Dense<T>(1)).Layers[0].Parameters[0];
        for (int i = 0; i < length; i++)
        {
            parameter.Values[i] = T.CreateChecked(random.NextDouble() * 2 - 1);
        }

        return parameter;
    }

    /// <summary>SGD on gradients minus their mean over the parameter: not elementwise, so never split.</summary>
    private sealed class MeanCentredSgd(double learningRate) : Optimizer(learningRate)
    {
        protected override void OnUpdate<T>(Span<T> values, ReadOnlySpan<T> gradients, OptimizerState<T> state)
        {
            T mean = T.Zero;
            foreach (T g in gradients)
            {
                mean += g;
            }

            mean /= T.CreateChecked(gradients.Length);
            T eta = T.CreateChecked(LearningRate);
            for (int i = 0; i < values.Length; i++)
            {
                values[i] -= eta * (gradients[i] - mean);
            }
        }
    }
}
