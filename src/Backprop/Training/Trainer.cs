using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop;

/// <summary>
/// Trains a <see cref="Network{T}"/> by backpropagation: the four steps one at a time, one batch at a time, or over a
/// whole data set with <see cref="Fit(Matrix{T}, Matrix{T}, FitOptions?, ValidationData{T}?, CancellationToken)"/>.
/// </summary>
/// <remarks>
/// <para>The four steps, for a batch X with targets Y (rows are samples), layers l = 1…L with zₗ = aₗ₋₁·Wₗ + bₗ, aₗ = fₗ(zₗ), a₀ = X:</para>
/// <list type="number">
/// <item><see cref="Forward(Matrix{T})"/>: forward propagation, keeping every zₗ and aₗ.</item>
/// <item><see cref="ComputeLocalGradients"/>: the loss and the output layer's local gradients
/// δ_L = ∂L/∂z_L = f′_L(z_L) ⊙ ∂L/∂a_L (or the fused form, such as p − y for softmax with cross-entropy).</item>
/// <item><see cref="BackpropagateErrors"/>: for l = L…1, ∂L/∂Wₗ = aₗ₋₁ᵀ·δₗ and ∂L/∂bₗ = Σ_rows δₗ, then the error
/// propagated back δₗ₋₁ = f′ₗ₋₁(zₗ₋₁) ⊙ (δₗ·Wₗᵀ).</item>
/// <item><see cref="UpdateWeights"/>: the optimizer changes every weight and bias, e.g. w ← w − η·∂L/∂w.</item>
/// </list>
/// <para>Training is deterministic: the same network seed, data, options and optimizer give bit-identical weights.</para>
/// <para>Thread safety: not thread-safe: a trainer keeps a reusable pass, its optimizer's state and its epoch count, so
/// call it from one thread at a time. <c>Fit</c> holds the network for the whole run, and each step method and
/// <see cref="TrainBatch(Matrix{T}, Matrix{T})"/> for its own call: any of them, or a gradient check, started on the same
/// network while another holds it throws <see cref="InvalidOperationException"/> and changes nothing. Predictions are
/// not checked: do not predict with the network on other threads while it trains. Observers, the schedule and
/// <see cref="FitOptions.Progress"/> are called on the thread that runs <c>Fit</c> (a thread-pool thread for
/// <c>FitAsync</c>). Cancellation stops <c>Fit</c> between two steps: the
/// weights and the optimizer state are those after the last finished step, <see cref="EpochsCompleted"/> counts the
/// finished epochs, and the network can be used or trained again at once.</para>
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed partial class Trainer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private ForwardPass<T>? _fitPass;
    private ParallelUpdate<T>? _parallelUpdate;

    /// <summary>Creates a trainer.</summary>
    /// <param name="network">The network to train.</param>
    /// <param name="loss">The loss to minimise.</param>
    /// <param name="optimizer">The update rule; it keeps per-parameter state, so give each trainer its own.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public Trainer(Network<T> network, ILossFunction loss, IOptimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(optimizer);
        Network = network;
        Loss = loss;
        Optimizer = optimizer;
        BaseLearningRate = optimizer.LearningRate;
    }

    /// <summary>The network being trained.</summary>
    public Network<T> Network { get; }

    /// <summary>The loss being minimised.</summary>
    public ILossFunction Loss { get; }

    /// <summary>The update rule.</summary>
    public IOptimizer Optimizer { get; }

    /// <summary>The number of epochs this trainer has completed over all its <c>Fit</c> calls. Epochs are numbered
    /// on from it: a second <c>Fit</c> continues with epoch <see cref="EpochsCompleted"/> + 1, so that training N epochs
    /// and then M more equals training N + M at once, bit for bit (each epoch's shuffle depends only on the seed and
    /// the epoch's number).</summary>
    public int EpochsCompleted { get; internal set; }

    /// <summary>The learning rate the optimizer had when the trainer was created: the base rate that learning-rate
    /// schedules scale.</summary>
    public double BaseLearningRate { get; internal set; }

    /// <summary>Whether the loss is fused with the output layer's activation (for example cross-entropy after softmax).</summary>
    public bool IsLossFused => Loss is IFusedOutputLoss fused && Network.Layers[^1].Activation is { } activation && fused.CanFuseWith(activation);

    /// <summary>Saves the network with the training state (loss, optimizer state, epochs completed, dropout generators),
    /// atomically, so that <see cref="LoadCheckpoint(string)"/> and <c>Fit</c> continue exactly where this trainer is.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <exception cref="NotSupportedException">A layer cannot be saved (it does not implement <see cref="ISerializableComponent"/>).</exception>
    /// <exception cref="IOException">The file cannot be written; the previous file, if any, is left as it was.</exception>
    public void SaveCheckpoint(string path) => ModelFile.SaveCheckpoint(this, path);

    /// <summary>Loads a trainer saved by <see cref="SaveCheckpoint(string)"/>.</summary>
    /// <param name="path">The file.</param>
    /// <returns>A trainer whose network, loss, optimizer state and epoch count are the saved ones.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is truncated, corrupted, of a newer format, not a <typeparamref name="T"/> network, or holds no training state.</exception>
    public static Trainer<T> LoadCheckpoint(string path) => ModelFile.LoadCheckpoint<T>(path);

    /// <summary>Loads a checkpoint whose layers, activations, loss or optimizer may be types of your own (see <see cref="ModelRegistry"/>).</summary>
    /// <param name="path">The file.</param>
    /// <param name="registry">The registry that holds every type the file names.</param>
    /// <returns>The restored trainer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="registry"/> is null.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is invalid, holds no training state, or names a type the registry does not hold.</exception>
    public static Trainer<T> LoadCheckpoint(string path, ModelRegistry registry) => ModelFile.LoadCheckpoint<T>(path, registry);

    /// <summary>Reads a checkpoint whose types may be your own (see <see cref="ModelRegistry"/>).</summary>
    /// <param name="stream">A readable stream; it is read to its end and not closed.</param>
    /// <param name="registry">The registry that holds every type the file names.</param>
    /// <returns>The restored trainer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="registry"/> is null.</exception>
    /// <exception cref="InvalidDataException">The data is invalid, holds no training state, or names a type the registry does not hold.</exception>
    public static Trainer<T> LoadCheckpoint(Stream stream, ModelRegistry registry) => ModelFile.LoadCheckpoint<T>(stream, registry);

    /// <summary>Step 1, forward propagation: feeds a batch through every layer, keeping each layer's pre-activations and activations.</summary>
    /// <param name="inputs">The batch, rows × input size.</param>
    /// <returns>A new pass, at stage <see cref="ForwardPassStage.Forwarded"/>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inputs"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> has the wrong width, no rows, or a value that is not finite.</exception>
    /// <exception cref="InvalidOperationException">The network is being trained by another call on another thread (Fit, TrainBatch or a training step).</exception>
    public ForwardPass<T> Forward(Matrix<T> inputs)
    {
        T[] rowMajor = Network.ToRowMajor(inputs, nameof(inputs));
        var pass = new ForwardPass<T>(Network, inputs.RowCount);
        rowMajor.CopyTo(pass.Input, 0);
        using (Network.HoldForTraining())
        {
            ForwardCore(pass, inputs.RowCount, training: true);
        }

        return pass;
    }

    /// <summary>Step 2: computes the batch's loss and the output layer's local gradients δ_L = ∂L/∂z_L.</summary>
    /// <param name="pass">A pass from <see cref="Forward(Matrix{T})"/>.</param>
    /// <param name="targets">The targets, rows × output size.</param>
    /// <returns>The batch's loss.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The pass belongs to another network, or <paramref name="targets"/> has the wrong shape, a non-finite value, or a value outside the loss's domain.</exception>
    /// <exception cref="InvalidOperationException">The pass is not at stage <see cref="ForwardPassStage.Forwarded"/>, or the network is being trained by another call on another thread (Fit, TrainBatch or a training step).</exception>
    public double ComputeLocalGradients(ForwardPass<T> pass, Matrix<T> targets)
    {
        CheckPass(pass, ForwardPassStage.Forwarded);
        using var hold = Network.HoldForTraining();
        return LocalGradientsCore(pass, targets);
    }

    /// <summary>Step 2 with its targets checked, for a caller that holds the network's training flag.</summary>
    internal double LocalGradientsCore(ForwardPass<T> pass, Matrix<T> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        CheckTargetShape(targets.RowCount, targets.ColumnCount, pass.Rows, nameof(targets));
        T[] rowMajor = targets.ToRowMajorArray();
        CheckTargetValues(rowMajor, nameof(targets));
        rowMajor.CopyTo(pass.Targets, 0);
        return LocalGradientsCore(pass);
    }

    /// <summary>Step 3, backward propagation of errors: every layer's local gradients and the gradients of every weight and bias.</summary>
    /// <param name="pass">A pass after <see cref="ComputeLocalGradients"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="pass"/> is null.</exception>
    /// <exception cref="ArgumentException">The pass belongs to another network.</exception>
    /// <exception cref="InvalidOperationException">The pass is not at stage <see cref="ForwardPassStage.LocalGradientsComputed"/>, or the network is being trained by another call on another thread (Fit, TrainBatch or a training step).</exception>
    public void BackpropagateErrors(ForwardPass<T> pass)
    {
        CheckPass(pass, ForwardPassStage.LocalGradientsComputed);
        using var hold = Network.HoldForTraining();
        BackpropagateCore(pass, computeInputGradients: false);
    }

    /// <summary>Step 4: the optimizer adjusts every weight and bias from the gradients of step 3.</summary>
    /// <param name="pass">A pass after <see cref="BackpropagateErrors"/>.</param>
    /// <exception cref="ArgumentNullException"><paramref name="pass"/> is null.</exception>
    /// <exception cref="ArgumentException">The pass belongs to another network.</exception>
    /// <exception cref="InvalidOperationException">The pass is not at stage <see cref="ForwardPassStage.ErrorsBackpropagated"/>, or the network is being trained by another call on another thread (Fit, TrainBatch or a training step).</exception>
    public void UpdateWeights(ForwardPass<T> pass)
    {
        CheckPass(pass, ForwardPassStage.ErrorsBackpropagated);
        using (Network.HoldForTraining())
        {
            UpdateCore(pass.Rows);
        }

        pass.Stage = ForwardPassStage.WeightsUpdated;
    }

    /// <summary>Runs the four steps on one batch.</summary>
    /// <param name="inputs">The batch, rows × input size.</param>
    /// <param name="targets">The targets, rows × output size.</param>
    /// <returns>The batch's loss before the update.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A matrix has the wrong shape or a non-finite value, or a target is outside the loss's domain.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient is NaN or infinite; the weights are left unchanged.</exception>
    /// <exception cref="InvalidOperationException">The network is being trained by another call on another thread (Fit, TrainBatch or a training step).</exception>
    public double TrainBatch(Matrix<T> inputs, Matrix<T> targets)
    {
        T[] x = Network.ToRowMajor(inputs, nameof(inputs));
        ArgumentNullException.ThrowIfNull(targets);
        CheckTargetShape(targets.RowCount, targets.ColumnCount, inputs.RowCount, nameof(targets));
        T[] y = targets.ToRowMajorArray();
        CheckTargetValues(y, nameof(targets));
        return TrainRows(x, y, inputs.RowCount);
    }

    /// <summary>Runs the four steps on one batch given as row-major spans, without allocating once the trainer has seen a
    /// batch of this size: the fast path for callers that assemble their own batches.</summary>
    /// <param name="inputs">rows × input size values, one sample after another.</param>
    /// <param name="targets">rows × output size values, one sample after another.</param>
    /// <returns>The batch's loss before the update.</returns>
    /// <exception cref="ArgumentException">A span is empty or not a whole number of rows, the two disagree in rows, a value is not finite, or a target is outside the loss's domain.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient is NaN or infinite; the weights are left unchanged.</exception>
    /// <exception cref="InvalidOperationException">The network is being trained by another call on another thread (Fit, TrainBatch or a training step).</exception>
    public double TrainBatch(ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets)
    {
        int inputWidth = Network.InputSize, outputWidth = Network.OutputSize;
        if (inputs.IsEmpty || inputs.Length % inputWidth != 0)
        {
            throw new ArgumentException($"inputs must hold one or more whole rows of {inputWidth} values (the network's input size), but it has {inputs.Length} values.", nameof(inputs));
        }

        int rows = inputs.Length / inputWidth;
        if (targets.Length != rows * outputWidth)
        {
            throw new ArgumentException($"targets must hold {rows} rows of {outputWidth} values ({rows * outputWidth}), one per input row, but it has {targets.Length} values.", nameof(targets));
        }

        Guard.FiniteValues(inputs, inputWidth, nameof(inputs));
        Guard.FiniteValues(targets, outputWidth, nameof(targets));
        Loss.ValidateTargets(targets, outputWidth, nameof(targets));
        return TrainRows(inputs, targets, rows);
    }

    /// <summary>The four steps on checked row-major rows, in the trainer's reusable pass.</summary>
    private double TrainRows(ReadOnlySpan<T> inputs, ReadOnlySpan<T> targets, int rows)
    {
        using var hold = Network.HoldForTraining();
        var pass = FitPass(rows);
        pass.SampleWeights = default;
        inputs.CopyTo(pass.Input);
        targets.CopyTo(pass.Targets);
        return StepCore(pass, rows, epoch: 0, batch: 0, maxNorm: null);
    }

    /// <summary>Steps 1–4 on the rows already in the pass: forward, local gradients (stopping on a non-finite loss),
    /// backward, the gradient health check and optional clipping, then the update.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal double StepCore(ForwardPass<T> pass, int rows, int epoch, int batch, double? maxNorm)
    {
        ForwardCore(pass, rows, training: true);
        double loss = LocalGradientsCore(pass);
        if (!double.IsFinite(loss))
        {
            throw new TrainingDivergedException(epoch, batch, -1, "loss", loss);
        }

        BackpropagateCore(pass, computeInputGradients: false);
        if (maxNorm is null && ParallelCheckedUpdate(rows, epoch, batch))
        {
            return loss;
        }

        GradientHealth.CheckAndClip(Network.Layers, epoch, batch, maxNorm);
        UpdateCore(rows);
        return loss;
    }

    /// <summary>The health check without clipping and the update, both split across the network's threads, each thread
    /// checking the ranges of the gradients it then applies; false, having done nothing, when the update would not be
    /// split (the caller then checks and updates as one thread does). A non-finite gradient is named by
    /// <see cref="GradientHealth.CheckAndClip"/>, exactly as on one thread.</summary>
    /// <exception cref="TrainingDivergedException">A gradient is NaN or infinite; nothing was updated.</exception>
    private bool ParallelCheckedUpdate(int rows, int epoch, int batch)
    {
        if (!Optimizer.IsElementwise || Network.MaxDegreeOfParallelism < 2)
        {
            return false;
        }

        _parallelUpdate ??= new ParallelUpdate<T>(Network.Layers);
        switch (_parallelUpdate.Run(Optimizer, Network.Context, Network.MaxDegreeOfParallelism, rows, checkFinite: true))
        {
            case UpdateOutcome.Updated:
                Network.MarkWeightsChanged();
                return true;
            case UpdateOutcome.NonFinite:
                GradientHealth.CheckAndClip(Network.Layers, epoch, batch, maxNorm: null);
                throw new UnreachableException("A gradient held a value that is not finite, but the health check found none.");
            default:
                return false;
        }
    }

    /// <summary>When set, the step <c>Fit</c>'s epoch loop runs instead of <see cref="StepCore"/>, with the same arguments
    /// (pass, rows, epoch, batch, maximum gradient norm) and result: Backprop.Distributed's data-parallel step, which
    /// leaves the batch's outputs in the pass and the same weights on every process.</summary>
    internal Func<ForwardPass<T>, int, int, int, double?, double>? FitStep { get; set; }

    /// <summary>The trainer's reusable pass, grown to hold <paramref name="rows"/> rows.</summary>
    internal ForwardPass<T> FitPass(int rows)
    {
        if (_fitPass is null || _fitPass.Capacity < rows)
        {
            _fitPass = new ForwardPass<T>(Network, rows);
        }

        return _fitPass;
    }

    /// <summary>How much the reduced loss of the batch in <paramref name="pass"/> counts in a data set's loss: its row
    /// count (Σ w when weighted) for a mean, 1 for a sum.</summary>
    internal double BatchWeight(ForwardPass<T> pass) => Loss.Reduction == LossReduction.Sum ? 1 : pass.WeightTotal();

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void ForwardCore(ForwardPass<T> pass, int rows, bool training)
    {
        pass.Rows = rows;
        var layers = Network.Layers;
        ReadOnlySpan<T> x = pass.Input.AsSpan(0, rows * Network.InputSize);
        for (int l = 0; l < layers.Count; l++)
        {
            int length = rows * layers[l].OutputSize;
            layers[l].Forward(x, pass.SavedBuffers[l].AsSpan(0, rows * layers[l].SavedForBackwardSize), pass.ActivationBuffers[l].AsSpan(0, length), rows, training);
            x = pass.ActivationBuffers[l].AsSpan(0, length);
        }

        pass.Loss = double.NaN;
        pass.Stage = ForwardPassStage.Forwarded;
    }

    /// <summary>The batch's objective: the loss plus the layers' regularisation penalties.</summary>
    internal double LossValueCore(ForwardPass<T> pass) => DataLossCore(pass) + Network.RegularizationPenalty();

    /// <summary>The batch's loss alone, from the logits when the loss is fused with the output activation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal double DataLossCore(ForwardPass<T> pass)
    {
        int last = Network.Layers.Count - 1, width = Network.OutputSize, length = pass.Rows * width;
        ReadOnlySpan<T> targets = pass.Targets.AsSpan(0, length);
        if (!pass.SampleWeights.IsEmpty)
        {
            var weights = pass.SampleWeights.Span;
            return IsLossFused
                ? double.CreateChecked(WeightedLoss.FusedValue((IFusedOutputLoss)Loss, pass.SavedBuffers[last].AsSpan(0, length), targets, weights, width))
                : double.CreateChecked(WeightedLoss.Value(Loss, pass.ActivationBuffers[last].AsSpan(0, length), targets, weights, width));
        }

        return IsLossFused
            ? double.CreateChecked(((IFusedOutputLoss)Loss).FusedValue<T>(pass.SavedBuffers[last].AsSpan(0, length), targets, width))
            : double.CreateChecked(Loss.Value<T>(pass.ActivationBuffers[last].AsSpan(0, length), targets, width));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal double LocalGradientsCore(ForwardPass<T> pass)
    {
        int last = Network.Layers.Count - 1, width = Network.OutputSize, rows = pass.Rows, length = rows * width;
        ReadOnlySpan<T> targets = pass.Targets.AsSpan(0, length);
        ReadOnlySpan<T> saved = pass.SavedBuffers[last].AsSpan(0, rows * Network.Layers[last].SavedForBackwardSize);
        ReadOnlySpan<T> a = pass.ActivationBuffers[last].AsSpan(0, length);
        Span<T> delta = pass.LocalGradientBuffers[last].AsSpan(0, length);
        double loss = LossValueCore(pass);
        pass.LossFused = IsLossFused;
        bool weighted = !pass.SampleWeights.IsEmpty;
        if (pass.LossFused)
        {
            if (weighted)
            {
                WeightedLoss.FusedLocalGradients((IFusedOutputLoss)Loss, a, targets, pass.SampleWeights.Span, delta, width);
            }
            else
            {
                ((IFusedOutputLoss)Loss).FusedLocalGradients(a, targets, delta, width);
            }
        }
        else
        {
            Span<T> outputGradients = pass.OutputGradientBuffers[last].AsSpan(0, length);
            if (weighted)
            {
                WeightedLoss.Gradient(Loss, a, targets, pass.SampleWeights.Span, outputGradients, width);
            }
            else
            {
                Loss.Gradient(a, targets, outputGradients, width);
            }

            Network.Layers[last].ComputeLocalGradients(saved, a, outputGradients, delta, rows);
        }

        pass.Loss = loss;
        pass.Stage = ForwardPassStage.LocalGradientsComputed;
        return loss;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void BackpropagateCore(ForwardPass<T> pass, bool computeInputGradients)
    {
        var layers = Network.Layers;
        int rows = pass.Rows;
        for (int l = layers.Count - 1; l >= 0; l--)
        {
            var layer = layers[l];
            ReadOnlySpan<T> inputs = l == 0
                ? pass.Input.AsSpan(0, rows * Network.InputSize)
                : pass.ActivationBuffers[l - 1].AsSpan(0, rows * layer.InputSize);
            Span<T> inputGradients = l > 0
                ? pass.OutputGradientBuffers[l - 1].AsSpan(0, rows * layer.InputSize)
                : computeInputGradients
                    ? (pass.InputGradients ??= new T[pass.Capacity * Network.InputSize]).AsSpan(0, rows * Network.InputSize)
                    : default;
            layer.Backpropagate(inputs, pass.LocalGradientBuffers[l].AsSpan(0, rows * layer.OutputSize), inputGradients, rows);
            if (l > 0)
            {
                var previous = layers[l - 1];
                int length = rows * previous.OutputSize;
                previous.ComputeLocalGradients(
                    pass.SavedBuffers[l - 1].AsSpan(0, rows * previous.SavedForBackwardSize),
                    pass.ActivationBuffers[l - 1].AsSpan(0, length),
                    pass.OutputGradientBuffers[l - 1].AsSpan(0, length),
                    pass.LocalGradientBuffers[l - 1].AsSpan(0, length),
                    rows);
            }
        }

        pass.Stage = ForwardPassStage.ErrorsBackpropagated;
    }

    /// <summary>Step 4 on the gradients of a batch of <paramref name="rows"/> rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void UpdateCore(int rows)
    {
        if (Optimizer.IsElementwise && Network.MaxDegreeOfParallelism > 1)
        {
            _parallelUpdate ??= new ParallelUpdate<T>(Network.Layers);
            if (_parallelUpdate.Run(Optimizer, Network.Context, Network.MaxDegreeOfParallelism, rows) == UpdateOutcome.Updated)
            {
                Network.MarkWeightsChanged();
                return;
            }
        }

        // Indexed loops: enumerating the interfaces would allocate an enumerator on every step.
        var layers = Network.Layers;
        for (int l = 0; l < layers.Count; l++)
        {
            var parameters = layers[l].Parameters;
            for (int p = 0; p < parameters.Count; p++)
            {
                Optimizer.Update(parameters[p]);
            }
        }

        Network.MarkWeightsChanged();
    }

    private void CheckPass(ForwardPass<T> pass, ForwardPassStage expected)
    {
        ArgumentNullException.ThrowIfNull(pass);
        if (!ReferenceEquals(pass.Network, Network))
        {
            throw new ArgumentException("pass was made by a trainer of another network; use a pass from this trainer's Forward.", nameof(pass));
        }

        if (pass.Stage != expected)
        {
            throw new InvalidOperationException($"This step needs a pass at stage {expected}, but the pass is at stage {pass.Stage}: run the four steps in order, once each.");
        }
    }

    internal void CheckTargetShape(int rows, int columns, int expectedRows, string paramName)
    {
        if (columns != Network.OutputSize)
        {
            throw new ArgumentException($"{paramName} has {columns} values per sample, but the network's output layer ({Network.Layers[^1]}) has {Network.OutputSize}.", paramName);
        }

        if (rows != expectedRows)
        {
            throw new ArgumentException($"{paramName} has {rows} rows, but there are {expectedRows} input samples; every sample needs one target row.", paramName);
        }
    }

    internal void CheckTargetValues(ReadOnlySpan<T> rowMajor, string paramName)
    {
        Guard.FiniteValues<T>(rowMajor, Network.OutputSize, paramName);
        Loss.ValidateTargets<T>(rowMajor, Network.OutputSize, paramName);
    }
}
