using System.Numerics;

namespace Backprop;

/// <summary>The hyperbolic tangent: f(z) = tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z)), with f′(z) = 1 − tanh²(z) = 4e^(−2|z|) / (1 + e^(−2|z|))².</summary>
/// <remarks>
/// <para><see cref="Apply{T}"/> is the runtime's scalar tanh; <see cref="Forward{T}"/> is vectorised for float and the
/// scalar tanh for double, so that saved double networks predict bit for bit as they did (see the comment in
/// <see cref="Forward{T}"/>). <see cref="Derivative{T}"/> uses the second form of f′, which keeps its precision
/// for large |z|; <see cref="Backward{T}"/> uses 1 − a² from the activations it is given.</para>
/// <para>Thread safety: immutable: one instance may be used by any number of layers, networks and threads at once
/// (predictions call it concurrently).</para>
/// </remarks>
public sealed class Tanh : ElementwiseActivation, IOnnxExportable
{
    /// <inheritdoc />
    public override string Name => "tanh";

    /// <inheritdoc />
    public override T Apply<T>(T z) => default(Operator<T>).Value(z);

    /// <inheritdoc />
    public override T Derivative<T>(T z) => default(Operator<T>).Derivative(z);

    /// <inheritdoc />
    public override void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width)
    {
        // float: the vector form (Operator.Value below, about 4× faster than the scalar loop, within 2.2 ε).
        // double: the runtime's scalar tanh, on purpose: the golden model files (GoldenModelTests, double networks)
        // promise that a saved tanh network predicts bit for bit what it predicted when it was saved, and the vector form
        // differs from the scalar one in the last bit for some values.
        if (typeof(T) == typeof(float))
        {
            ElementwiseKernel.Forward(default(Operator<T>), preActivations, activations);
            return;
        }

        ActivationGuard.SameLength(preActivations.Length, activations.Length, nameof(activations));
        for (int i = 0; i < preActivations.Length; i++)
        {
            activations[i] = T.Tanh(preActivations[i]);
        }
    }

    /// <inheritdoc />
    public override void Backward<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int width) =>
        ElementwiseKernel.Backward(default(Operator<T>), preActivations, activations, outputGradients, localGradients);

    private readonly struct Operator<T> : IElementwiseOperator<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        public static bool BackwardReadsActivations => true;

        public T Value(T z) => T.Tanh(z);

        public T Derivative(T z)
        {
            T e = T.Exp(-(T.Abs(z) + T.Abs(z)));
            return T.CreateChecked(4) * e / ((T.One + e) * (T.One + e));
        }

        // tanh(z) = −m / (m + 2) with m = e^(−2|z|) − 1 (Kahan's expm1 trick) and the sign of z: keeps its relative
        // precision for tiny |z| and saturates to ±1 without overflow. Used for float (see Forward).
        public TVec Value<TVec, TSimd>(TVec z)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T>
        {
            TVec absolute = TSimd.Abs(z);
            TVec m = VectorMath.ExpM1<T, TVec, TSimd>(TSimd.Negate(TSimd.Add(absolute, absolute)));
            TVec magnitude = TSimd.Divide(TSimd.Negate(m), TSimd.Add(m, TSimd.Broadcast(T.CreateTruncating(2))));
            return TSimd.CopySign(magnitude, z);
        }

        public TVec Backward<TVec, TSimd>(TVec z, TVec a, TVec g)
            where TVec : struct
            where TSimd : ISimdWidth<TVec, T> =>
            TSimd.Multiply(g, TSimd.Subtract(TSimd.Broadcast(T.One), TSimd.Multiply(a, a)));
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        string output = graph.Name("a");
        graph.AddNode("Tanh", graph.Name("tanh"), [input], output);
        return output;
    }
}
