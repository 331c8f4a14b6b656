using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop;

/// <summary>
/// Inverted dropout: in training, sets each value to 0 with probability p and scales the others by 1 / (1 − p);
/// at inference, passes its input through unchanged.
/// </summary>
/// <remarks>
/// <para>Forward in training: a = x ⊙ m, with every mᵢ drawn independently, mᵢ = 0 with probability p and
/// mᵢ = 1 / (1 − p) otherwise, so that E[aᵢ] = xᵢ and the next layer sees the same expected input in training and at
/// inference. At inference (<c>training</c> false): a = x. Backward: δ = ∂L/∂x = m ⊙ ∂L/∂a, with the mask of the forward
/// pass, which the layer keeps as what it saves for backward (<see cref="SavedForBackwardName"/> "mask").</para>
/// <para>The masks come from the layer's own <see cref="DeterministicRandom"/>, seeded by the constructor: element i is
/// dropped when the generator's next <see cref="DeterministicRandom.NextDouble"/> is below p, element by element and
/// pass by pass, so equal seeds and equal training runs give equal masks (with p = 0 nothing is drawn).</para>
/// <para>N. Srivastava, G. Hinton, A. Krizhevsky, I. Sutskever and R. Salakhutdinov, "Dropout: A Simple Way to Prevent
/// Neural Networks from Overfitting", JMLR 15 (2014). Typical p: 0.5 for hidden layers, 0.1–0.2 for inputs.</para>
/// <para>The layer has no parameters and its output width is its input width.</para>
/// <para>Thread safety: at inference the layer only copies its input and may run on any number of threads at once; a
/// training pass draws from the layer's own <see cref="DeterministicRandom"/>, which is not thread-safe, so training
/// passes must come from one thread at a time (as one <c>Fit</c> does).</para>
/// </remarks>
/// <typeparam name="T">The element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class Dropout<T> : Layer<T>, ISerializableComponent, IOnnxExportable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly DeterministicRandom _random;
    private readonly T _scale;

    /// <summary>Creates a dropout layer.</summary>
    /// <param name="rate">p, the probability of dropping each value, in [0, 1); 0 makes the layer the identity.</param>
    /// <param name="seed">The seed of the layer's mask generator; equal seeds give equal masks.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rate"/> is outside [0, 1).</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public Dropout(double rate, long seed)
    {
        HyperParameters.ZeroToOneExclusive(rate, nameof(rate));
        Rate = rate;
        Seed = seed;
        _random = new DeterministicRandom(seed);
        _scale = T.CreateChecked(1 / (1 - rate));
    }

    /// <summary>p, the probability of dropping each value in training.</summary>
    public double Rate { get; }

    /// <summary>The seed of the mask generator.</summary>
    public long Seed { get; }

    /// <summary>The mask generator, whose state model checkpoints save so that resumed training draws the same masks.</summary>
    internal DeterministicRandom Random => _random;

    /// <summary>Keeps the mask m of the forward pass (0 or 1 / (1 − p) per value) for the backward pass.</summary>
    public override string SavedForBackwardName => "mask";

    /// <summary>One value per element: copying and masking cost about that much.</summary>
    public override long FlopsPerSample => InputSize;

    /// <summary>"dropout", the name model files store the layer under.</summary>
    public string TypeName => "dropout";

    /// <summary>Describes the layer.</summary>
    /// <returns>For example "Dropout(0.5)".</returns>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"Dropout({Rate})");

    /// <summary>Writes rate and seed.</summary>
    /// <param name="settings">Receives the settings.</param>
    public void WriteSettings(ComponentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Set("rate", Rate).Set("seed", Seed);
    }

    /// <summary>Writes the mask generator's position, so that resumed training draws the same masks.</summary>
    /// <param name="state">Receives "generator" (four 64-bit words, as signed integers) and, when the generator holds a
    /// spare Gaussian value, "spare".</param>
    protected internal override void WriteState(ComponentSettings state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var s = _random.State;
        state.Set("generator", [unchecked((long)s.S0), unchecked((long)s.S1), unchecked((long)s.S2), unchecked((long)s.S3)]);
        if (s.Spare is double spare)
        {
            state.Set("spare", spare);
        }
    }

    /// <summary>Restores the mask generator's position written by <see cref="WriteState"/>.</summary>
    /// <param name="state">The saved state.</param>
    /// <exception cref="ArgumentException">The generator state is missing, not four words, or all zero.</exception>
    protected internal override void ReadState(ComponentSettings state)
    {
        ArgumentNullException.ThrowIfNull(state);
        long[] words = state.GetInt64s("generator");
        if (words.Length != 4 || (words[0] | words[1] | words[2] | words[3]) == 0)
        {
            throw new ArgumentException("The dropout generator state must be four 64-bit words, not all zero.", nameof(state));
        }

        double? spare = state.Contains("spare") ? state.GetDouble("spare") : null;
        _random.State = (unchecked((ulong)words[0]), unchecked((ulong)words[1]), unchecked((ulong)words[2]), unchecked((ulong)words[3]), spare);
    }

    /// <inheritdoc />
    protected override TensorShape OnBuild(TensorShape inputShape, DeterministicRandom random) => inputShape;

    /// <inheritdoc />
    protected override void OnForward(ReadOnlySpan<T> inputs, Span<T> saved, Span<T> activations, int rows, bool training)
    {
        if (!training)
        {
            // a = x. When the caller keeps the mask for a backward pass (a gradient check in inference mode), the mask
            // is all ones, so that backward is the identity too.
            saved.Fill(T.One);
            inputs.CopyTo(activations);
            return;
        }

        // m: 0 with probability p, 1 / (1 − p) otherwise; kept for the backward pass.
        Span<T> mask = saved;
        double rate = Rate;
        if (rate == 0)
        {
            mask.Fill(T.One);
            inputs.CopyTo(activations);
            return;
        }

        T scale = _scale;
        for (int i = 0; i < mask.Length; i++)
        {
            mask[i] = _random.NextDouble() < rate ? T.Zero : scale;
        }

        // a = x ⊙ m
        TensorPrimitives.Multiply(inputs, mask, activations);
    }

    /// <inheritdoc />
    protected override void OnComputeLocalGradients(ReadOnlySpan<T> saved, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int rows) =>
        // δ = m ⊙ ∂L/∂a, with the mask kept by the forward pass.
        TensorPrimitives.Multiply(outputGradients, saved, localGradients);

    /// <inheritdoc />
    protected override void OnBackpropagate(ReadOnlySpan<T> inputs, ReadOnlySpan<T> localGradients, Span<T> inputGradients, int rows)
    {
        // ∂L/∂x = δ: the mask was applied in the local gradients.
        if (!inputGradients.IsEmpty)
        {
            localGradients.CopyTo(inputGradients);
        }
    }

    /// <summary>Adds the layer to an ONNX graph: nothing, since inverted dropout is the identity at inference.</summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="input">The name of the input value.</param>
    /// <returns><paramref name="input"/>.</returns>
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input) => input;
}
