using System.Numerics;

namespace Backprop;

/// <summary>The exponential linear unit: f(z) = z for z &gt; 0 and α·(e^z − 1) otherwise;
/// f′(z) = 1 for z &gt; 0 and α·e^z otherwise.</summary>
/// <remarks>
/// <para>Clevert, Unterthiner and Hochreiter, "Fast and accurate deep network learning by exponential linear units (ELUs)", ICLR 2016.
/// e^z − 1 is computed with Kahan's expm1 trick, accurate also for tiny |z| (the runtime's ExpM1 is plain e^z − 1).</para>
/// <para>Thread safety: immutable: one instance may be used by any number of layers, networks and threads at once
/// (predictions call it concurrently).</para>
/// </remarks>
public sealed class Elu : ElementwiseActivation, ISerializableComponent, IOnnxExportable
{
    /// <summary>Creates an ELU.</summary>
    /// <param name="alpha">The saturation value −α for z → −∞; finite and greater than 0. 1 by default.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> is not a finite positive number.</exception>
    public Elu(double alpha = 1.0)
    {
        Guard.PositiveFinite(alpha, nameof(alpha));
        Alpha = alpha;
    }

    /// <summary>The scale α of the negative part.</summary>
    public double Alpha { get; }

    /// <summary>Writes α as "alpha".</summary>
    /// <param name="settings">Receives the settings.</param>
    void ISerializableComponent.WriteSettings(ComponentSettings settings) => settings.Set("alpha", Alpha);

    /// <inheritdoc />
    public override string Name => "elu";

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

        public T Value(T z) => z > T.Zero ? z : alpha * ElementwiseKernel.ExpM1(z);

        public T Derivative(T z) => z > T.Zero ? T.One : alpha * T.Exp(z);

        public TVec Value<TVec, TSimd>(TVec z)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> =>
            TSimd.Select(
                TSimd.GreaterThan(z, TSimd.Broadcast(T.Zero)),
                z,
                TSimd.Multiply(TSimd.Broadcast(alpha), VectorMath.ExpM1<T, TVec, TSimd>(z)));

        public TVec Backward<TVec, TSimd>(TVec z, TVec a, TVec g)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T>
        {
            TVec derivative = TSimd.Select(
                TSimd.GreaterThan(z, TSimd.Broadcast(T.Zero)),
                TSimd.Broadcast(T.One),
                TSimd.Multiply(TSimd.Broadcast(alpha), TSimd.Exp(z)));
            return TSimd.Multiply(g, derivative);
        }
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        string output = graph.Name("a");
        graph.AddNode("Elu", graph.Name("elu"), [input], output, OnnxAttribute.Float("alpha", graph.ToFloat(Alpha, "activation alpha")));
        return output;
    }
}
