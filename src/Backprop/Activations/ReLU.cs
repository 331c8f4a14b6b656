using System.Numerics;
using System.Runtime.InteropServices;

namespace Backprop;

/// <summary>The rectified linear unit: f(z) = max(0, z), with f′(z) = 1 for z &gt; 0 and 0 otherwise (0 at z = 0).</summary>
/// <remarks>Thread safety: immutable: one instance may be used by any number of layers, networks and threads at once
/// (predictions call it concurrently).</remarks>
public sealed class ReLU : ElementwiseActivation, IOnnxExportable
{
    /// <inheritdoc />
    public override string Name => "relu";

    /// <inheritdoc />
    public override T Apply<T>(T z) => z > T.Zero ? z : T.Zero;

    /// <inheritdoc />
    public override T Derivative<T>(T z) => z > T.Zero ? T.One : T.Zero;

    /// <inheritdoc />
    public override void Forward<T>(ReadOnlySpan<T> preActivations, Span<T> activations, int width)
    {
        ActivationGuard.SameLength(preActivations.Length, activations.Length, nameof(activations));
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var z = MemoryMarshal.Cast<T, Vector<T>>(preActivations);
            var a = MemoryMarshal.Cast<T, Vector<T>>(activations);
            for (int v = 0; v < z.Length; v++)
            {
                a[v] = Vector.ConditionalSelect(Vector.GreaterThan(z[v], Vector<T>.Zero), z[v], Vector<T>.Zero);
            }

            i = z.Length * Vector<T>.Count;
        }

        for (; i < preActivations.Length; i++)
        {
            activations[i] = Apply(preActivations[i]);
        }
    }

    /// <inheritdoc />
    public override void Backward<T>(ReadOnlySpan<T> preActivations, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int width)
    {
        ActivationGuard.SameLength(preActivations.Length, outputGradients.Length, nameof(outputGradients));
        ActivationGuard.SameLength(preActivations.Length, localGradients.Length, nameof(localGradients));
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var z = MemoryMarshal.Cast<T, Vector<T>>(preActivations);
            var g = MemoryMarshal.Cast<T, Vector<T>>(outputGradients);
            var d = MemoryMarshal.Cast<T, Vector<T>>(localGradients);
            for (int v = 0; v < z.Length; v++)
            {
                d[v] = Vector.ConditionalSelect(Vector.GreaterThan(z[v], Vector<T>.Zero), g[v], Vector<T>.Zero);
            }

            i = z.Length * Vector<T>.Count;
        }

        for (; i < preActivations.Length; i++)
        {
            localGradients[i] = preActivations[i] > T.Zero ? outputGradients[i] : T.Zero;
        }
    }

    /// <inheritdoc />
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        string output = graph.Name("a");
        graph.AddNode("Relu", graph.Name("relu"), [input], output);
        return output;
    }
}
