using System.Numerics;

namespace Backprop;

/// <summary>The leaky rectified linear unit: f(z) = z for z &gt; 0 and α·z otherwise; f′(z) = 1 for z &gt; 0 and α otherwise.</summary>
/// <remarks>
/// <para>Maas, Hannun and Ng, "Rectifier nonlinearities improve neural network acoustic models" (2013).</para>
/// <para>Thread safety: immutable: one instance may be used by any number of layers, networks and threads at once
/// (predictions call it concurrently).</para>
/// </remarks>
public sealed class LeakyReLU : ElementwiseActivation, ISerializableComponent, IOnnxExportable
{
    /// <summary>Creates a leaky ReLU with the given negative slope.</summary>
    /// <param name="alpha">The slope α for z ≤ 0; finite and at least 0. 0.01 by default.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is negative or not finite.</exception>
    public LeakyReLU(double alpha = 0.01)
    {
        Guard.Finite(alpha, nameof(alpha));
        Guard.InRange(alpha, 0, double.MaxValue, nameof(alpha));
        Alpha = alpha;
    }

    /// <summary>The slope α for z ≤ 0.</summary>
    public double Alpha { get; }

    /// <summary>Writes α as "alpha".</summary>
    /// <param name="settings">Receives the settings.</param>
    void ISerializableComponent.WriteSettings(ComponentSettings settings) => settings.Set("alpha", Alpha);

    /// <inheritdoc />
    public override string Name => "leaky_relu";

    /// <inheritdoc />
    public override T Apply<T>(T z) => Op<T>().Value(z);

    /// <inheritdoc />
    public override T Derivative<T>(T z) => Op<T>().Derivative(z);

    /// <inheritdoc />
    public override void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width) =>
        ElementwiseKernel.Forward(Op<T>(), preActivations, activations);

    /// <inheritdoc />
    public override void Backward<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int width) =>
        ElementwiseKernel.Backward(Op<T>(), preActivations, activations, outputGradients, localGradients);

    private Operator<T> Op<T>()
        where T : unmanaged, IFloatingPointIeee754<T> => new(T.CreateChecked(Alpha));

    private readonly struct Operator<T>(T alpha) : IElementwiseOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static bool BackwardReadsActivations => false;

        public T Value(T z) => z > T.Zero ? z : alpha * z;

        public T Derivative(T z) => z > T.Zero ? T.One : alpha;

        public TVec Value<TVec, TSimd>(TVec z)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> =>
            TSimd.Select(TSimd.GreaterThan(z, TSimd.Broadcast(T.Zero)), z, TSimd.Multiply(TSimd.Broadcast(alpha), z));

        public TVec Backward<TVec, TSimd>(TVec z, TVec a, TVec g)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> =>
            TSimd.Multiply(g, TSimd.Select(TSimd.GreaterThan(z, TSimd.Broadcast(T.Zero)), TSimd.Broadcast(T.One), TSimd.Broadcast(alpha)));
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        string output = graph.Name("a");
        graph.AddNode("LeakyRelu", graph.Name("leaky_relu"), [input], output, OnnxAttribute.Float("alpha", graph.ToFloat(Alpha, "activation alpha")));
        return output;
    }
}
