using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop;

/// <summary>
/// The record of one batch going through a network: what every layer keeps for its backward pass (a dense layer's
/// pre-activations, a dropout layer's mask) and every layer's activations (step 1), then the
/// local gradients δ (steps 2 and 3) and the errors propagated back to each layer's output.
/// </summary>
/// <remarks>
/// <para>Created by <see cref="Trainer{T}.Forward(Matrix{T})"/> and filled in by the trainer's later steps. The <c>Get…</c>
/// methods return copies as MathNet matrices whose rows are samples, for inspection and teaching.</para>
/// <para>Thread safety: not thread-safe: the trainer's later steps write into it. Use a pass on one thread at a time;
/// the <c>Get…</c> methods return copies, which may then be used anywhere.</para>
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class ForwardPass<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    internal ForwardPass(Network<T> network, int capacity)
    {
        Network = network;
        Capacity = capacity;
        int count = network.Layers.Count;
        Input = new T[capacity * network.InputSize];
        Targets = new T[capacity * network.OutputSize];
        SavedBuffers = new T[count][];
        ActivationBuffers = new T[count][];
        OutputGradientBuffers = new T[count][];
        LocalGradientBuffers = new T[count][];
        for (int l = 0; l < count; l++)
        {
            int size = capacity * network.Layers[l].OutputSize;
            SavedBuffers[l] = new T[capacity * network.Layers[l].SavedForBackwardSize];
            ActivationBuffers[l] = new T[size];
            OutputGradientBuffers[l] = new T[size];
            LocalGradientBuffers[l] = new T[size];
        }
    }

    /// <summary>The network this pass went through.</summary>
    public Network<T> Network { get; }

    /// <summary>The number of samples in the batch.</summary>
    public int Rows { get; internal set; }

    /// <summary>How far the pass has gone through the four steps.</summary>
    public ForwardPassStage Stage { get; internal set; }

    /// <summary>The batch's loss, computed in step 2; NaN before.</summary>
    public double Loss { get; internal set; } = double.NaN;

    internal int Capacity { get; }

    internal T[] Input { get; private set; }

    /// <summary>Makes <paramref name="filled"/>, an array of the input's length that already holds the next batch, the
    /// pass's input, and returns the previous input array for the caller to fill next: a batch staged in the background
    /// is taken over instead of copied.</summary>
    internal T[] ExchangeInput(T[] filled)
    {
        Debug.Assert(filled.Length == Input.Length, "the staged batch array has the input's length");
        (Input, filled) = (filled, Input);
        return filled;
    }

    internal T[] Targets { get; }

    /// <summary>What each layer keeps for its backward pass (<see cref="Layer{T}.SavedForBackwardName"/>).</summary>
    internal T[][] SavedBuffers { get; }

    internal T[][] ActivationBuffers { get; }

    /// <summary>∂L/∂a of each layer's output: for the last layer from the loss, for the others propagated back.</summary>
    internal T[][] OutputGradientBuffers { get; }

    internal T[][] LocalGradientBuffers { get; }

    /// <summary>∂L/∂x of the network's input, when a gradient check asked for it.</summary>
    internal T[]? InputGradients { get; set; }

    /// <summary>The network's output for the batch: the last layer's activations.</summary>
    /// <returns>A new rows × output-size matrix.</returns>
    public Matrix<T> GetOutput() => GetActivations(Network.Layers.Count - 1);

    /// <summary>The input batch.</summary>
    /// <returns>A new rows × input-size matrix.</returns>
    public Matrix<T> GetInput() => ToMatrix(Input, Network.InputSize);

    /// <summary>Layer <paramref name="layer"/>'s pre-activations z = x·W + b (step 1), for a layer that keeps them
    /// (one with an activation, such as <see cref="Dense{T}"/>).</summary>
    /// <param name="layer">The layer index, 0 for the first.</param>
    /// <returns>A new rows × width matrix.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layer"/> is not a layer index.</exception>
    /// <exception cref="InvalidOperationException">The layer keeps something else for its backward pass (a dropout
    /// layer's mask, say): read it with <see cref="GetSavedForBackward"/>.</exception>
    public Matrix<T> GetPreActivations(int layer)
    {
        var l = Network.Layers[CheckLayer(layer)];
        if (l.SavedForBackwardName != "pre-activations")
        {
            throw new InvalidOperationException(
                $"Layer {layer} ({l}) has no pre-activations: it keeps its {l.SavedForBackwardName} for the backward pass; read that with GetSavedForBackward({layer}).");
        }

        return ToMatrix(SavedBuffers[layer], l.OutputSize);
    }

    /// <summary>What layer <paramref name="layer"/> kept from step 1 for its backward pass, named by its
    /// <see cref="Layer{T}.SavedForBackwardName"/>: pre-activations for a dense layer, the mask for dropout.</summary>
    /// <param name="layer">The layer index, 0 for the first.</param>
    /// <returns>A new rows × <see cref="Layer{T}.SavedForBackwardSize"/> matrix (no columns for a layer that keeps nothing).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layer"/> is not a layer index.</exception>
    public Matrix<T> GetSavedForBackward(int layer) => ToMatrix(SavedBuffers[CheckLayer(layer)], Network.Layers[layer].SavedForBackwardSize);

    /// <summary>Layer <paramref name="layer"/>'s activations a = f(z) (step 1).</summary>
    /// <param name="layer">The layer index, 0 for the first.</param>
    /// <returns>A new rows × width matrix.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layer"/> is not a layer index.</exception>
    public Matrix<T> GetActivations(int layer) => ToMatrix(ActivationBuffers[CheckLayer(layer)], Network.Layers[layer].OutputSize);

    /// <summary>Layer <paramref name="layer"/>'s local gradients δ = ∂L/∂z (step 2 for the output layer, step 3 for the others).</summary>
    /// <param name="layer">The layer index, 0 for the first.</param>
    /// <returns>A new rows × width matrix.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layer"/> is not a layer index.</exception>
    /// <exception cref="InvalidOperationException">That layer's local gradients are not computed yet.</exception>
    public Matrix<T> GetLocalGradients(int layer)
    {
        CheckLayer(layer);
        bool ready = layer == Network.Layers.Count - 1 ? Stage >= ForwardPassStage.LocalGradientsComputed : Stage >= ForwardPassStage.ErrorsBackpropagated;
        if (!ready)
        {
            throw new InvalidOperationException($"The local gradients of layer {layer} are not computed yet (the pass is at stage {Stage}).");
        }

        return ToMatrix(LocalGradientBuffers[layer], Network.Layers[layer].OutputSize);
    }

    /// <summary>The errors propagated back to layer <paramref name="layer"/>'s output, ∂L/∂a (step 3): for a hidden layer
    /// δ_next·W_nextᵀ, for the output layer the loss gradient (absent when the loss is fused with the activation).</summary>
    /// <param name="layer">The layer index; the last layer only when its loss is not fused.</param>
    /// <returns>A new rows × width matrix.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="layer"/> is not a layer index.</exception>
    /// <exception cref="InvalidOperationException">The errors have not reached that layer yet.</exception>
    public Matrix<T> GetPropagatedErrors(int layer)
    {
        CheckLayer(layer);
        bool ready = layer == Network.Layers.Count - 1 ? Stage >= ForwardPassStage.LocalGradientsComputed && !LossFused : Stage >= ForwardPassStage.ErrorsBackpropagated;
        if (!ready)
        {
            throw new InvalidOperationException(LossFused && layer == Network.Layers.Count - 1
                ? "The output layer's ∂L/∂a is never formed: its loss is fused with its activation, which gives δ directly."
                : $"The errors have not been propagated back to layer {layer} yet (the pass is at stage {Stage}).");
        }

        return ToMatrix(OutputGradientBuffers[layer], Network.Layers[layer].OutputSize);
    }

    internal bool LossFused { get; set; }

    /// <summary>One weight per row of the batch when the loss is weighted (sample or class weights); empty otherwise.</summary>
    internal ReadOnlyMemory<T> SampleWeights { get; set; }

    /// <summary>How much the batch's reduced loss counts in a data set's: Σ w with weights, else the row count.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal double WeightTotal()
    {
        if (SampleWeights.IsEmpty)
        {
            return Rows;
        }

        double total = 0;
        foreach (T w in SampleWeights.Span)
        {
            total += double.CreateChecked(w);
        }

        return total;
    }

    private int CheckLayer(int layer)
    {
        if ((uint)layer >= (uint)Network.Layers.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layer must be in [0, {Network.Layers.Count - 1}], but it is {layer}.");
        }

        return layer;
    }

    private Matrix<T> ToMatrix(T[] buffer, int width) =>
        Matrix<T>.Build.DenseOfRowMajor(Rows, width, buffer.AsSpan(0, Rows * width).ToArray());
}

/// <summary>The steps of backpropagation a <see cref="ForwardPass{T}"/> has been through.</summary>
public enum ForwardPassStage
{
    /// <summary>Step 1: every layer's activations, and what it keeps for backward, are computed.</summary>
    Forwarded,

    /// <summary>Step 2: the loss and the output layer's local gradients are computed.</summary>
    LocalGradientsComputed,

    /// <summary>Step 3: every layer's local gradients and parameter gradients are computed.</summary>
    ErrorsBackpropagated,

    /// <summary>Step 4: the optimizer has updated the weights and biases from this pass.</summary>
    WeightsUpdated,
}
