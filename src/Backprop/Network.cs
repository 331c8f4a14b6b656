using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using Backprop.Numerics;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Storage;

namespace Backprop;

/// <summary>
/// A feed-forward neural network: an ordered composition of layers, each fed the previous one's output.
/// </summary>
/// <remarks>
/// <para>Creating the network builds its layers: each is sized from the previous width and initialised from one
/// generator seeded by the caller, so the same seed and architecture always give the same weights.</para>
/// <para>Batches are MathNet matrices whose rows are samples.</para>
/// <para>Thread safety: <see cref="Predict(ReadOnlySpan{T}, Span{T})"/>, the other predictions and saving only read
/// the network and may run on any number of threads at once: a prediction keeps no shared scratch state (each call
/// rents its own buffers); the one thing predictions share is each dense layer's transposed copy of its weights, made
/// from weights that have not changed since the previous prediction and published whole, which predictions only read
/// (threads that race to make it each make a complete one). None of them may overlap a change of the weights: training by any trainer of this network, a
/// <see cref="GradientCheck"/>, or writes through <see cref="Dense{T}.Weights"/> or <see cref="Parameter{T}.Values"/>.
/// Training calls hold the network one at a time: a <c>Fit</c>, <c>TrainBatch</c>, training step or gradient check
/// started while another runs throws <see cref="InvalidOperationException"/> and changes nothing. Predictions are not
/// checked against training (an observer may predict between two steps of its own <c>Fit</c>).</para>
/// </remarks>
/// <typeparam name="T">The element type: <see cref="float"/> for fast training, <see cref="double"/> for precise work and gradient checks.</typeparam>
public sealed class Network<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The seed used by the constructor that takes none.</summary>
    public const int DefaultSeed = 0;

    private readonly Layer<T>[] _layers;
    private readonly int _maxWidth;
    private int _maxDegreeOfParallelism = 1;
    private ComputeContext _context = ComputeContext.Shared;
    private int _training;
    private PredictionJob? _predictionJob;
    private ParallelFiniteCheck<T>? _finiteCheck;

    /// <summary>Creates and initialises a network with the default seed (<see cref="DefaultSeed"/>).</summary>
    /// <param name="inputs">The number of values per input sample; at least 1.</param>
    /// <param name="layers">The layers, first to last; at least one, none belonging to another network.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputs"/> is less than 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="layers"/> is empty, contains null, or contains a layer of another network.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public Network(int inputs, params Layer<T>[] layers)
        : this(inputs, DefaultSeed, layers)
    {
    }

    /// <summary>Creates a network and initialises its weights from a generator seeded with <paramref name="seed"/>.</summary>
    /// <param name="inputs">The number of values per input sample; at least 1.</param>
    /// <param name="seed">The seed of the weight initialisation; equal seeds give equal networks.</param>
    /// <param name="layers">The layers, first to last; at least one, none belonging to another network.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="inputs"/> is less than 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="layers"/> is empty, contains null, or contains a layer of another network.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public Network(int inputs, int seed, params Layer<T>[] layers)
        : this(PositiveInputs(inputs), seed, layers)
    {
    }

    /// <summary>Creates a network for samples of a given shape (for example an image, channels × height × width) with the
    /// default seed (<see cref="DefaultSeed"/>).</summary>
    /// <param name="inputShape">The shape of one input sample; rows of a batch hold its <see cref="TensorShape.Size"/> values, row-major.</param>
    /// <param name="layers">The layers, first to last; at least one, none belonging to another network.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inputShape"/> or <paramref name="layers"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="layers"/> is empty, contains null or a layer of another network, or a layer cannot take the shape it is given (the message names the layer's index and the shapes).</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public Network(TensorShape inputShape, params Layer<T>[] layers)
        : this(inputShape, DefaultSeed, layers)
    {
    }

    /// <summary>Creates a network for samples of a given shape and initialises its weights from a generator seeded with
    /// <paramref name="seed"/>. Each layer is built in turn from the shape the previous one gives, so a shape that a
    /// layer cannot take fails here, naming the layer.</summary>
    /// <param name="inputShape">The shape of one input sample; rows of a batch hold its <see cref="TensorShape.Size"/> values, row-major.</param>
    /// <param name="seed">The seed of the weight initialisation; equal seeds give equal networks.</param>
    /// <param name="layers">The layers, first to last; at least one, none belonging to another network.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inputShape"/> or <paramref name="layers"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="layers"/> is empty, contains null or a layer of another network, or a layer cannot take the shape it is given (the message names the layer's index and the shapes).</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public Network(TensorShape inputShape, int seed, params Layer<T>[] layers)
    {
        Guard.SupportedElementType<T>();
        ArgumentNullException.ThrowIfNull(inputShape);
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Length == 0)
        {
            throw new ArgumentException("layers must contain at least one layer, but it is empty: a network needs an output layer.", nameof(layers));
        }

        var random = new DeterministicRandom(seed);
        var shape = inputShape;
        int maxWidth = inputShape.Size;
        for (int i = 0; i < layers.Length; i++)
        {
            var layer = layers[i] ?? throw new ArgumentException($"layers[{i}] is null; every layer must be an object.", nameof(layers));
            if (layer.IsBuilt || Array.IndexOf(layers, layer, 0, i) >= 0)
            {
                throw new ArgumentException($"layers[{i}] ({layer}) already belongs to a network; create a new layer for each position and network.", nameof(layers));
            }

            try
            {
                layer.Build(shape, random);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"layers[{i}] ({layer}) cannot take its input of shape {shape}: {e.Message}", nameof(layers), e);
            }

            if (layer.SavedForBackwardSize < 0 || (layer.Activation is not null && layer.SavedForBackwardSize != layer.OutputSize))
            {
                throw new ArgumentException(
                    $"layers[{i}] ({layer}) keeps {layer.SavedForBackwardSize} values per sample for backward; it must keep at least 0, and exactly its output size ({layer.OutputSize}, its pre-activations) when it has an activation.",
                    nameof(layers));
            }

            shape = layer.OutputShape!;
            maxWidth = Math.Max(maxWidth, shape.Size);
        }

        _layers = (Layer<T>[])layers.Clone();
        _maxWidth = maxWidth;
        InputShape = inputShape;
        Seed = seed;
    }

    /// <summary>The shape of one input sample.</summary>
    public TensorShape InputShape { get; }

    /// <summary>The shape of one output sample: the last layer's output shape.</summary>
    public TensorShape OutputShape => _layers[^1].OutputShape!;

    /// <summary>The number of values per input sample: <see cref="InputShape"/>'s size.</summary>
    public int InputSize => InputShape.Size;

    /// <summary>The number of values per output sample: the last layer's width.</summary>
    public int OutputSize => _layers[^1].OutputSize;

    /// <summary>The seed the weights were initialised from.</summary>
    public int Seed { get; }

    /// <summary>The layers, first to last.</summary>
    public IReadOnlyList<Layer<T>> Layers => _layers;

    /// <summary>The total number of trainable values (weights and biases) in all layers.</summary>
    public long ParameterCount => _layers.Sum(l => l.Parameters.Sum(p => (long)p.Length));

    /// <summary>The most threads one matrix product may use in training, and one batch prediction: at most this many, and
    /// at most the <see cref="Context"/>'s <see cref="ComputeContext.MaxDegreeOfParallelism"/>. 1 by default.
    /// Results are bit-identical whatever the value: training splits its work by output tiles, never inside a sum, and a
    /// prediction of more than 128 rows that is worth splitting runs whole chunks of 128 rows on each thread.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is less than 1.</exception>
    public int MaxDegreeOfParallelism
    {
        get => _maxDegreeOfParallelism;
        set
        {
            Guard.Positive(value, nameof(value));
            _maxDegreeOfParallelism = value;
            foreach (var layer in _layers)
            {
                layer.MaxDegreeOfParallelism = value;
            }
        }
    }

    /// <summary>Where the network's parallel work runs: the worker threads and split threshold of its products, its
    /// optimizer updates and its batch copies. <see cref="ComputeContext.Shared"/> unless set.</summary>
    /// <remarks>Networks that share a context take turns at its workers (a job that finds them busy runs alone on its
    /// caller's thread); give networks that train or predict at once a context each for each to get cores of its own.
    /// The context never changes a result. Set it before the network is trained or shared; the network does not own
    /// it: dispose a context of your own when no network uses it any more (or let it be collected with them).</remarks>
    /// <exception cref="ArgumentNullException">The value is null.</exception>
    /// <exception cref="ObjectDisposedException">The value is a disposed context.</exception>
    public ComputeContext Context
    {
        get => _context;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            ObjectDisposedException.ThrowIf(value.IsDisposed, value);
            _context = value;
            foreach (var layer in _layers)
            {
                layer.Context = value;
            }
        }
    }

    /// <summary>The sum of every layer's <see cref="Layer{T}.RegularizationPenalty"/>: what regularisation adds to the training objective.</summary>
    /// <returns>The total penalty; 0 when no layer is regularised.</returns>
    public double RegularizationPenalty()
    {
        double total = 0;
        for (int l = 0; l < _layers.Length; l++)
        {
            total += _layers[l].RegularizationPenalty();
        }

        return total;
    }

    /// <summary>Predicts the output for one sample.</summary>
    /// <param name="sample">The input, <see cref="InputSize"/> values.</param>
    /// <returns>A new array of <see cref="OutputSize"/> values.</returns>
    /// <exception cref="ArgumentException"><paramref name="sample"/> has the wrong length or a value that is not finite.</exception>
    public T[] Predict(ReadOnlySpan<T> sample)
    {
        var result = new T[OutputSize];
        Predict(sample, result);
        return result;
    }

    /// <summary>Predicts the output for one sample into a caller-supplied destination, without allocating.</summary>
    /// <param name="sample">The input, <see cref="InputSize"/> values.</param>
    /// <param name="destination">Receives the <see cref="OutputSize"/> output values.</param>
    /// <exception cref="ArgumentException"><paramref name="sample"/> or <paramref name="destination"/> has the wrong length, or the sample has a value that is not finite.</exception>
    public void Predict(ReadOnlySpan<T> sample, Span<T> destination)
    {
        CheckInputWidth(sample.Length, nameof(sample));
        if (destination.Length != OutputSize)
        {
            throw new ArgumentException($"destination must have {OutputSize} elements (the network's output size), but it has {destination.Length}.", nameof(destination));
        }

        Guard.FiniteValues(sample, InputSize, nameof(sample));
        PredictCore(sample, false, destination, outputColumnMajor: false, 1);
    }

    /// <summary>Predicts the outputs for a batch whose rows are samples.</summary>
    /// <param name="inputs">rows × <see cref="InputSize"/>.</param>
    /// <returns>A new rows × <see cref="OutputSize"/> matrix.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inputs"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> has the wrong number of columns, no rows, or a value that is not finite.</exception>
    /// <remarks>A dense matrix (MathNet's column-major storage) is read as it is, without a copy; the only allocation
    /// proportional to the batch is the result. To predict into a matrix of your own, use
    /// <see cref="Predict(Matrix{T}, Matrix{T})"/>.</remarks>
    public Matrix<T> Predict(Matrix<T> inputs)
    {
        var source = MatrixInput(inputs, nameof(inputs), out bool columnMajor);
        int rows = inputs.RowCount;
        var output = new T[rows * OutputSize];
        PredictCore(source, columnMajor, output, outputColumnMajor: true, rows);
        return Matrix<T>.Build.Dense(rows, OutputSize, output);
    }

    /// <summary>Predicts the outputs for a batch whose rows are samples into a caller-supplied matrix, without allocating.</summary>
    /// <remarks>Dense matrices (MathNet's column-major storage) are read and written as they are; other storage is
    /// accepted, read through a row-major copy and written element by element. The result is bit-identical to
    /// <see cref="Predict(Matrix{T})"/>'s. <paramref name="outputs"/> may be <paramref name="inputs"/> itself when the
    /// widths agree: each row is read before its outputs are written.</remarks>
    /// <param name="inputs">rows × <see cref="InputSize"/>.</param>
    /// <param name="outputs">Receives the outputs: rows × <see cref="OutputSize"/>, every element overwritten.</param>
    /// <exception cref="ArgumentNullException"><paramref name="inputs"/> or <paramref name="outputs"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> has the wrong number of columns, no rows, or a value
    /// that is not finite; or <paramref name="outputs"/> is not rows × <see cref="OutputSize"/>.</exception>
    public void Predict(Matrix<T> inputs, Matrix<T> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        var source = MatrixInput(inputs, nameof(inputs), out bool columnMajor);
        int rows = inputs.RowCount;
        if (outputs.RowCount != rows || outputs.ColumnCount != OutputSize)
        {
            throw new ArgumentException(
                $"outputs must be {rows} × {OutputSize} (the inputs' rows × the network's output size), but it is {outputs.RowCount} × {outputs.ColumnCount}.",
                nameof(outputs));
        }

        if (outputs.Storage is DenseColumnMajorMatrixStorage<T> dense)
        {
            PredictCore(source, columnMajor, dense.Data.AsSpan(0, rows * OutputSize), outputColumnMajor: true, rows);
            return;
        }

        // Other storage: through a pooled row-major buffer, element by element.
        int width = OutputSize;
        T[] buffer = ArrayPool<T>.Shared.Rent(rows * width);
        try
        {
            PredictCore(source, columnMajor, buffer.AsSpan(0, rows * width), outputColumnMajor: false, rows);
            for (int r = 0; r < rows; r++)
            {
                for (int j = 0; j < width; j++)
                {
                    outputs.At(r, j, buffer[(r * width) + j]);
                }
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(buffer);
        }
    }

    /// <summary>Predicts the outputs for a batch of row-major samples into a caller-supplied span, without allocating.</summary>
    /// <remarks>The result is bit-identical to <see cref="Predict(Matrix{T})"/>'s on the same rows, and each row's to
    /// <see cref="Predict(ReadOnlySpan{T}, Span{T})"/>'s.</remarks>
    /// <param name="inputs">rows × <see cref="InputSize"/> values, row-major (sample r at [r·<see cref="InputSize"/>, (r + 1)·<see cref="InputSize"/>)).</param>
    /// <param name="rows">The number of samples; at least 1.</param>
    /// <param name="outputs">Receives rows × <see cref="OutputSize"/> values, row-major; must not overlap <paramref name="inputs"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="rows"/> is less than 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> does not hold exactly rows × <see cref="InputSize"/>
    /// values or has a value that is not finite, or <paramref name="outputs"/> does not hold exactly rows ×
    /// <see cref="OutputSize"/> values or overlaps <paramref name="inputs"/>.</exception>
    public void Predict(ReadOnlySpan<T> inputs, int rows, Span<T> outputs)
    {
        Guard.Positive(rows, nameof(rows));
        if (inputs.Length != (long)rows * InputSize)
        {
            throw new ArgumentException(
                $"inputs must hold {(long)rows * InputSize} values ({rows} rows × the network's input size {InputSize}), but it holds {inputs.Length}.", nameof(inputs));
        }

        if (outputs.Length != (long)rows * OutputSize)
        {
            throw new ArgumentException(
                $"outputs must hold {(long)rows * OutputSize} values ({rows} rows × the network's output size {OutputSize}), but it holds {outputs.Length}.", nameof(outputs));
        }

        if (inputs.Overlaps(outputs))
        {
            throw new ArgumentException("outputs must not overlap inputs: later rows would be read after earlier outputs overwrote them.", nameof(outputs));
        }

        int bad = IndexOfNonFiniteInput(inputs, rows);
        if (bad >= 0)
        {
            Guard.ThrowNonFinite(inputs, bad, InputSize, nameof(inputs));
        }

        PredictCore(inputs, false, outputs, outputColumnMajor: false, rows);
    }

    /// <summary>Predicts the class of every sample: the index of its largest output for a network with several outputs,
    /// and for a one-output binary classifier 1 when the probability of class 1 is above 0.5, else 0.</summary>
    /// <remarks>
    /// <para>With two or more outputs the class is the arg-max of the row (the first index wins a tie).</para>
    /// <para>With one output the network is a binary classifier, and what its output means is read from the output
    /// layer's activation: after <see cref="Sigmoid"/> it is a probability p, and the class is 1 when p &gt; 0.5; after
    /// <see cref="Identity"/> it is a logit z (as trained with <see cref="BinaryCrossEntropyWithLogits"/>), and the class
    /// is 1 when z &gt; 0, that is σ(z) &gt; 0.5. Any other one-output network (a <see cref="Tanh"/> or <see cref="ReLU"/>
    /// output, a dropout last layer) has no classes and throws. A one-output regression network with an
    /// <see cref="Identity"/> output would be read as logits: call <see cref="Predict(Matrix{T})"/> on it instead.</para>
    /// <para>For another threshold use <see cref="PredictClasses(Matrix{T}, double)"/>; for several independent labels,
    /// <see cref="PredictLabels"/>.</para>
    /// </remarks>
    /// <param name="inputs">rows × <see cref="InputSize"/>.</param>
    /// <returns>One class index per row, in [0, <see cref="OutputSize"/>) with several outputs, 0 or 1 with one.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inputs"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> has the wrong number of columns, no rows, or a value that is not finite.</exception>
    /// <exception cref="InvalidOperationException">The network has one output and its output layer's activation is neither <see cref="Sigmoid"/> nor <see cref="Identity"/>.</exception>
    public int[] PredictClasses(Matrix<T> inputs)
    {
        if (OutputSize == 1)
        {
            return PredictClasses(inputs, 0.5);
        }

        var source = MatrixInput(inputs, nameof(inputs), out bool columnMajor);
        int rows = inputs.RowCount, width = OutputSize;
        var output = new T[rows * width];
        PredictCore(source, columnMajor, output, outputColumnMajor: false, rows);
        var classes = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            classes[r] = ArgMax(output.AsSpan(r * width, width));
        }

        return classes;
    }

    /// <summary>Predicts the class of every sample for a one-output binary classifier: 1 when the probability of class 1
    /// is above <paramref name="threshold"/>, else 0.</summary>
    /// <remarks>The output is read as in <see cref="PredictClasses(Matrix{T})"/>: a probability p after a
    /// <see cref="Sigmoid"/> output (class 1 when p &gt; t), a logit z after an <see cref="Identity"/> output (class 1 when
    /// z &gt; ln(t / (1 − t)), that is σ(z) &gt; t). A lower threshold finds more of class 1 at the cost of more false alarms.</remarks>
    /// <param name="inputs">rows × <see cref="InputSize"/>.</param>
    /// <param name="threshold">The probability t above which a sample is of class 1; in (0, 1).</param>
    /// <returns>One class, 0 or 1, per row.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inputs"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> has the wrong number of columns, no rows, or a value that is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threshold"/> is not in (0, 1).</exception>
    /// <exception cref="InvalidOperationException">The network has more than one output, or its output layer's activation is neither <see cref="Sigmoid"/> nor <see cref="Identity"/>.</exception>
    public int[] PredictClasses(Matrix<T> inputs, double threshold)
    {
        if (OutputSize != 1)
        {
            throw new InvalidOperationException(
                $"A threshold applies to a binary classifier with one output, but this network has {OutputSize}: PredictClasses(inputs) gives the arg-max class, PredictLabels(inputs, threshold) the labels above a threshold.");
        }

        T cut = DecisionCut(threshold, nameof(threshold), nameof(PredictClasses));
        var source = MatrixInput(inputs, nameof(inputs), out bool columnMajor);
        int rows = inputs.RowCount;
        var output = new T[rows];
        PredictCore(source, columnMajor, output, outputColumnMajor: false, rows);
        var classes = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            classes[r] = output[r] > cut ? 1 : 0;
        }

        return classes;
    }

    /// <summary>Predicts which labels are on for every sample, for a multi-label classifier: output j is on when the
    /// probability of label j is above <paramref name="threshold"/>.</summary>
    /// <remarks>Every output is an independent yes/no decision, read from the output layer's activation as in
    /// <see cref="PredictClasses(Matrix{T}, double)"/>: a probability p after <see cref="Sigmoid"/> (on when p &gt; t), a
    /// logit z after <see cref="Identity"/> (on when z &gt; ln(t / (1 − t))). Train such a network with
    /// <see cref="BinaryCrossEntropy"/> (or <see cref="BinaryCrossEntropyWithLogits"/>) on a 0/1 target matrix.</remarks>
    /// <param name="inputs">rows × <see cref="InputSize"/>.</param>
    /// <param name="threshold">The probability t above which a label is on; in (0, 1), 0.5 by default.</param>
    /// <returns>One array of <see cref="OutputSize"/> flags per row: <c>labels[i][j]</c> is whether sample i has label j.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="inputs"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="inputs"/> has the wrong number of columns, no rows, or a value that is not finite.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="threshold"/> is not in (0, 1).</exception>
    /// <exception cref="InvalidOperationException">The output layer's activation is neither <see cref="Sigmoid"/> nor <see cref="Identity"/> (a softmax output ranks classes; use <see cref="PredictClasses(Matrix{T})"/>).</exception>
    public bool[][] PredictLabels(Matrix<T> inputs, double threshold = 0.5)
    {
        T cut = DecisionCut(threshold, nameof(threshold), nameof(PredictLabels));
        var source = MatrixInput(inputs, nameof(inputs), out bool columnMajor);
        int rows = inputs.RowCount, width = OutputSize;
        var output = new T[rows * width];
        PredictCore(source, columnMajor, output, outputColumnMajor: false, rows);
        var labels = new bool[rows][];
        for (int r = 0; r < rows; r++)
        {
            var row = new bool[width];
            for (int j = 0; j < width; j++)
            {
                row[j] = output[r * width + j] > cut;
            }

            labels[r] = row;
        }

        return labels;
    }

    /// <summary>Saves the network to a file in the library's model format, atomically (see <see cref="ModelFile"/>).</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <exception cref="NotSupportedException">A layer cannot be saved (it does not implement <see cref="ISerializableComponent"/>).</exception>
    /// <exception cref="IOException">The file cannot be written; the previous file, if any, is left as it was.</exception>
    public void Save(string path) => ModelFile.Save(this, path);

    /// <summary>Writes the network to a stream in the library's model format.</summary>
    /// <param name="stream">A writable stream; it is not closed.</param>
    /// <exception cref="NotSupportedException">A layer cannot be saved (it does not implement <see cref="ISerializableComponent"/>).</exception>
    public void Save(Stream stream) => ModelFile.Save(this, stream);

    /// <summary>Loads a network saved by <see cref="Save(string)"/> (or a checkpoint, ignoring its training state).</summary>
    /// <param name="path">The file.</param>
    /// <returns>A network that predicts bit-identically to the saved one.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is truncated, corrupted, of a newer format, or not a <typeparamref name="T"/> network.</exception>
    public static Network<T> Load(string path) => ModelFile.Load<T>(path);

    /// <summary>Reads a network written by <see cref="Save(Stream)"/>.</summary>
    /// <param name="stream">A readable stream; it is read to its end and not closed.</param>
    /// <returns>A network that predicts bit-identically to the saved one.</returns>
    /// <exception cref="InvalidDataException">The data is truncated, corrupted, of a newer format, or not a <typeparamref name="T"/> network.</exception>
    public static Network<T> Load(Stream stream) => ModelFile.Load<T>(stream);

    /// <summary>Loads a network whose layers, activations or initializers may be types of your own (see <see cref="ModelRegistry"/>).</summary>
    /// <param name="path">The file.</param>
    /// <param name="registry">The registry that holds every type the file names.</param>
    /// <returns>A network that predicts bit-identically to the saved one.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="registry"/> is null.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is invalid, or names a type the registry does not hold.</exception>
    public static Network<T> Load(string path, ModelRegistry registry) => ModelFile.Load<T>(path, registry);

    /// <summary>Reads a network whose types may be your own (see <see cref="ModelRegistry"/>).</summary>
    /// <param name="stream">A readable stream; it is read to its end and not closed.</param>
    /// <param name="registry">The registry that holds every type the file names.</param>
    /// <returns>A network that predicts bit-identically to the saved one.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="registry"/> is null.</exception>
    /// <exception cref="InvalidDataException">The data is invalid, or names a type the registry does not hold.</exception>
    public static Network<T> Load(Stream stream, ModelRegistry registry) => ModelFile.Load<T>(stream, registry);

    /// <summary>Describes the architecture.</summary>
    /// <returns>The input shape and the layers, for example "Network&lt;Single&gt;(4 → Dense(16, relu) → Dense(3, softmax))" or
    /// "Network&lt;Single&gt;(1×28×28 → Conv2D(…) → …)".</returns>
    public override string ToString() =>
        $"Network<{typeof(T).Name}>({InputShape} → {string.Join(" → ", _layers.Select(l => l.ToString()))})";

    internal int MaxWidth => _maxWidth;

    /// <summary>Records that the library has changed the weights (a training step, a restore): every copy a layer
    /// derived from them for prediction is stale from now on.</summary>
    internal void MarkWeightsChanged()
    {
        // Indexed loops: enumerating the interfaces would allocate on every training step.
        for (int l = 0; l < _layers.Length; l++)
        {
            var parameters = _layers[l].Parameters;
            for (int p = 0; p < parameters.Count; p++)
            {
                parameters[p].MarkChanged();
            }
        }
    }

    /// <summary>Marks the network as being trained until the returned hold is disposed (<c>using var hold = …</c>): a
    /// second training call (Fit, TrainBatch, a step, a gradient check) meanwhile fails instead of corrupting weights.</summary>
    internal TrainingHold HoldForTraining()
    {
        if (Interlocked.CompareExchange(ref _training, 1, 0) != 0)
        {
            throw new InvalidOperationException("This network is already being trained (by Fit, TrainBatch, a training step or a gradient check on another thread); a network can be changed by one call at a time.");
        }

        return new TrainingHold(this);
    }

    /// <summary>A network's training mark, released on disposal; a struct, so that taking it allocates nothing.</summary>
    internal readonly struct TrainingHold(Network<T> network) : IDisposable
    {
        public void Dispose() => Volatile.Write(ref network._training, 0);
    }

    /// <summary>Whether the outputs are logits (an <see cref="Identity"/> output) rather than probabilities (a
    /// <see cref="Sigmoid"/> output), for reading them as yes/no decisions; any other output layer has no such reading.</summary>
    internal bool OutputsAreLogits(string method)
    {
        var last = _layers[^1];
        return last.Activation switch
        {
            Sigmoid => false,
            Identity => true,
            _ => throw new InvalidOperationException(
                $"{method} reads each output as a yes/no decision, which needs a Sigmoid output layer (probabilities) or an Identity one (logits), but the output layer is {last}. "
                + (OutputSize == 1 ? "A one-output network with another activation has no classes: use Predict for its values." : "For a softmax output use PredictClasses, which takes the arg-max.")),
        };
    }

    /// <summary>The output value above which a decision is yes: the threshold itself on probabilities, its logit
    /// ln(t / (1 − t)) on logits.</summary>
    private T DecisionCut(double threshold, string paramName, string method)
    {
        if (!(threshold > 0 && threshold < 1))
        {
            throw new ArgumentOutOfRangeException(paramName, threshold,
                string.Create(CultureInfo.InvariantCulture, $"{paramName} is a probability and must be in (0, 1), but it is {threshold}."));
        }

        return T.CreateChecked(OutputsAreLogits(method) ? Math.Log(threshold / (1 - threshold)) : threshold);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static int ArgMax(ReadOnlySpan<T> values)
    {
        int best = 0;
        for (int j = 1; j < values.Length; j++)
        {
            if (values[j] > values[best])
            {
                best = j;
            }
        }

        return best;
    }

    internal void CheckInputWidth(int width, string paramName)
    {
        if (width != InputSize)
        {
            throw new ArgumentException(
                $"{paramName} has {width} values per sample, but layer 0 ({_layers[0]}) expects {InputSize} (the network's input size).", paramName);
        }
    }

    /// <summary>Checks a batch matrix against the network's input and copies it row-major.</summary>
    internal T[] ToRowMajor(Matrix<T> inputs, string paramName)
    {
        ArgumentNullException.ThrowIfNull(inputs, paramName);
        CheckInputWidth(inputs.ColumnCount, paramName);
        if (inputs.RowCount == 0)
        {
            throw new ArgumentException($"{paramName} must have at least one row (sample), but it has none.", paramName);
        }

        T[] rowMajor = Numerics.RowMajorCopy.Of(inputs);
        Guard.FiniteValues<T>(rowMajor, InputSize, paramName);
        return rowMajor;
    }

    // Rows predicted at a time: up to 16 of the GEMM's 8-row tiles, so that the product reads a dense layer's transposed
    // copy of its weights in place instead of packing it for every chunk.
    private const int PredictionChunkRows = 128;

    /// <summary>Checks a batch matrix against the network's input and returns its values as the kernels can read them:
    /// the storage of a dense matrix as it is (column-major: element (r, c) at c·rows + r), or else a row-major copy.</summary>
    private ReadOnlySpan<T> MatrixInput(Matrix<T> inputs, string paramName, out bool columnMajor)
    {
        ArgumentNullException.ThrowIfNull(inputs, paramName);
        CheckInputWidth(inputs.ColumnCount, paramName);
        int rows = inputs.RowCount;
        if (rows == 0)
        {
            throw new ArgumentException($"{paramName} must have at least one row (sample), but it has none.", paramName);
        }

        if (inputs.Storage is not DenseColumnMajorMatrixStorage<T> dense)
        {
            columnMajor = false;
            return ToRowMajor(inputs, paramName);
        }

        ReadOnlySpan<T> values = dense.Data.AsSpan(0, rows * InputSize);
        if (IndexOfNonFiniteInput(values, rows) >= 0)
        {
            // Name the first value in row-major order, as the check of a row-major batch does.
            for (int r = 0; r < rows; r++)
            {
                for (int c = 0; c < InputSize; c++)
                {
                    T value = values[(c * rows) + r];
                    if (!T.IsFinite(value))
                    {
                        throw new ArgumentException(
                            string.Create(CultureInfo.InvariantCulture, $"{paramName} must contain only finite numbers, but the element at row {r}, column {c} is {value}."),
                            paramName);
                    }
                }
            }
        }

        columnMajor = true;
        return values;
    }

    /// <summary>Runs inference chunk by chunk with pooled ping-pong buffers: thread-safe, allocation-free.</summary>
    /// <remarks>A batch of several chunks that is worth splitting (<see cref="ComputeContext.ParallelThresholdFlops"/>)
    /// runs its chunks on up to <see cref="MaxDegreeOfParallelism"/> threads of the context at once, each chunk whole on
    /// one thread (its products then run on that thread alone): a chunk's values then stay in one core's cache from
    /// layer to layer, and only one hand-over per call is paid instead of one per product. Every chunk is computed
    /// exactly as on one thread, so the result is bit-identical whatever the number of threads.</remarks>
    /// <param name="inputs">rows × <see cref="InputSize"/>: row-major, or with <paramref name="inputColumnMajor"/> a
    /// column-major matrix's storage (element (r, c) at c·rows + r).</param>
    /// <param name="inputColumnMajor">Whether <paramref name="inputs"/> is column-major storage.</param>
    /// <param name="outputs">rows × <see cref="OutputSize"/>: row-major, or column-major with <paramref name="outputColumnMajor"/>.</param>
    /// <param name="outputColumnMajor">Whether to write <paramref name="outputs"/> column-major.</param>
    /// <param name="rows">The number of samples.</param>
    internal void PredictCore(ReadOnlySpan<T> inputs, bool inputColumnMajor, Span<T> outputs, bool outputColumnMajor, int rows)
    {
        // A column-major matrix of one row is also row-major.
        if (inputColumnMajor && rows == 1)
        {
            inputColumnMajor = false;
        }

        var batch = new PredictionBatch(inputColumnMajor, outputColumnMajor, rows, Math.Max(1, Math.Min(rows, PredictionChunkRows)));
        int parts = PredictionParts(rows);
        if (parts > 1 && PredictInParallel(inputs, outputs, batch, parts))
        {
            return;
        }

        using var scratch = new PredictionScratch(this, batch);
        for (int index = 0; index < batch.Chunks; index++)
        {
            PredictChunk(inputs, outputs, batch, index, scratch);
        }
    }

    /// <summary>The index of the first NaN or infinity in a batch of <paramref name="rows"/> inputs, or −1: scanned by the
    /// threads that will predict the batch when it runs on several (<see cref="PredictCore"/>'s condition) and is long
    /// enough to pay for a hand-over, else on the caller alone. Either way the whole batch is checked before any output
    /// is written.</summary>
    private int IndexOfNonFiniteInput(ReadOnlySpan<T> values, int rows)
    {
        int parts = PredictionParts(rows);
        if (parts < 2)
        {
            return Guard.IndexOfNonFinite(values);
        }

        var check = _finiteCheck ??= new ParallelFiniteCheck<T>();
        return check.IndexOfNonFinite(values, _context.Pool, parts);
    }

    /// <summary>How many threads a prediction of <paramref name="rows"/> samples runs on: up to one per chunk of
    /// <see cref="PredictionChunkRows"/> rows and the threads allowed, when its work passes the context's
    /// <see cref="ComputeContext.ParallelThresholdFlops"/>; else 1.</summary>
    private int PredictionParts(int rows)
    {
        int chunks = (rows + PredictionChunkRows - 1) / PredictionChunkRows;
        int parts = Math.Min(chunks, _context.PartsFor(_maxDegreeOfParallelism));
        return parts > 1 && _context.WouldSplit((double)FlopsPerSample * rows) ? parts : 1;
    }

    /// <summary>The forward cost of one sample through every layer (<see cref="Layer{T}.FlopsPerSample"/>), in floating-point operations.</summary>
    private long FlopsPerSample
    {
        get
        {
            long total = 0;
            foreach (var layer in _layers)
            {
                total += layer.FlopsPerSample;
            }

            return total;
        }
    }

    /// <summary>Runs the chunks of a batch on <paramref name="parts"/> threads of the context's pool: each thread claims
    /// the next chunk nobody has taken until none is left. The inputs and outputs stay pinned while the workers run, as
    /// the caller waits for every part before it leaves the fixed block.</summary>
    /// <returns>False, having done nothing, when the pool is held by another job (the caller then runs the chunks alone).</returns>
    private unsafe bool PredictInParallel(ReadOnlySpan<T> inputs, Span<T> outputs, PredictionBatch batch, int parts)
    {
        var pool = _context.Pool;
        if (!pool.TryAcquire())
        {
            return false;
        }

        // Only the holder of the pool uses the job, so one per network serves every caller.
        var job = _predictionJob ??= new PredictionJob(this);
        fixed (T* input = inputs)
        fixed (T* output = outputs)
        {
            job.Begin(input, inputs.Length, output, outputs.Length, batch);
            try
            {
                job.RunHeld(pool, parts);
            }
            finally
            {
                job.End();
            }
        }

        return true;
    }

    /// <summary>Predicts the rows of chunk <paramref name="index"/> of a batch into their place in <paramref name="outputs"/>.</summary>
    private void PredictChunk(ReadOnlySpan<T> inputs, Span<T> outputs, PredictionBatch batch, int index, PredictionScratch scratch)
    {
        int rows = batch.Rows;
        int start = index * batch.ChunkRows;
        int count = Math.Min(batch.ChunkRows, rows - start);
        int width = OutputSize;
        ReadOnlySpan<T> current;
        int firstLayer = 0;
        if (!batch.InputColumnMajor)
        {
            current = inputs.Slice(start * InputSize, count * InputSize);
        }
        else if (_layers[0] is Dense<T> firstDense)
        {
            // The first product reads the column-major batch as it is: Xᵀ, inputs × rows row-major.
            Span<T> target = scratch.First.AsSpan(0, count * firstDense.OutputSize);
            firstDense.Predict(inputs[start..], rows, true, target, count);
            current = target;
            firstLayer = 1;
        }
        else
        {
            Span<T> copy = scratch.Transposed.AsSpan(0, count * InputSize);
            for (int r = 0; r < count; r++)
            {
                for (int c = 0; c < InputSize; c++)
                {
                    copy[(r * InputSize) + c] = inputs[(c * rows) + start + r];
                }
            }

            current = copy;
        }

        for (int l = firstLayer; l < _layers.Length; l++)
        {
            var layer = _layers[l];
            Span<T> target = (l % 2 == 0 ? scratch.First : scratch.Second).AsSpan(0, count * layer.OutputSize);
            try
            {
                if (layer is Dense<T> dense)
                {
                    dense.Predict(current, layer.InputSize, false, target, count);
                }
                else
                {
                    layer.Forward(current, default, target, count, training: false);
                }
            }
            catch (InvalidIdException e) when (start > 0)
            {
                // An embedding names the row of the chunk it was given: name the row of the caller's input.
                throw e.AtRowOffset(start);
            }

            current = target;
        }

        if (!batch.OutputColumnMajor)
        {
            current.CopyTo(outputs.Slice(start * width, count * width));
        }
        else
        {
            for (int j = 0; j < width; j++)
            {
                Span<T> column = outputs.Slice((j * rows) + start, count);
                for (int r = 0; r < count; r++)
                {
                    column[r] = current[(r * width) + j];
                }
            }
        }
    }

    /// <summary>The layout of one prediction call and how it is cut into chunks of <see cref="ChunkRows"/> rows.</summary>
    private readonly record struct PredictionBatch(bool InputColumnMajor, bool OutputColumnMajor, int Rows, int ChunkRows)
    {
        public int Chunks => (Rows + ChunkRows - 1) / ChunkRows;
    }

    /// <summary>One thread's ping-pong buffers for the chunks it predicts, rented from the shared array pool and
    /// returned on disposal.</summary>
    private readonly struct PredictionScratch : IDisposable
    {
        public PredictionScratch(Network<T> network, PredictionBatch batch)
        {
            First = ArrayPool<T>.Shared.Rent(batch.ChunkRows * network._maxWidth);
            Second = ArrayPool<T>.Shared.Rent(batch.ChunkRows * network._maxWidth);
            Transposed = batch.InputColumnMajor && network._layers[0] is not Dense<T> ? ArrayPool<T>.Shared.Rent(batch.ChunkRows * network.InputSize) : [];
        }

        public T[] First { get; }

        public T[] Second { get; }

        public T[] Transposed { get; }

        public void Dispose()
        {
            ArrayPool<T>.Shared.Return(First);
            ArrayPool<T>.Shared.Return(Second);
            if (Transposed.Length > 0)
            {
                ArrayPool<T>.Shared.Return(Transposed);
            }
        }
    }

    /// <summary>The chunks of one batch prediction shared out among the threads of the context's pool: each part claims
    /// chunks from one counter until none is left. An exception in a chunk stops the claiming of later chunks, and the
    /// call rethrows the exception of the earliest chunk that failed, the one a prediction on one thread throws.</summary>
    private sealed unsafe class PredictionJob(Network<T> network) : PartitionedWork
    {
        private T* _inputs;
        private int _inputsLength;
        private T* _outputs;
        private int _outputsLength;
        private PredictionBatch _batch;
        private int _next;
        private int _failedChunk;
        private Exception? _error;
        private readonly Lock _errorLock = new();

        public void Begin(T* inputs, int inputsLength, T* outputs, int outputsLength, PredictionBatch batch)
        {
            _inputs = inputs;
            _inputsLength = inputsLength;
            _outputs = outputs;
            _outputsLength = outputsLength;
            _batch = batch;
            _next = 0;
            _failedChunk = int.MaxValue;
            _error = null;
        }

        /// <summary>Forgets the caller's buffers and rethrows the earliest chunk's exception, if any.</summary>
        public void End()
        {
            _inputs = null;
            _outputs = null;
            Exception? error = _error;
            _error = null;
            if (error is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
            }
        }

        protected override void RunPart(int part)
        {
            var inputs = new ReadOnlySpan<T>(_inputs, _inputsLength);
            var outputs = new Span<T>(_outputs, _outputsLength);
            using var scratch = new PredictionScratch(network, _batch);
            int index;
            while ((index = Interlocked.Increment(ref _next) - 1) < _batch.Chunks && index < Volatile.Read(ref _failedChunk))
            {
                try
                {
                    network.PredictChunk(inputs, outputs, _batch, index, scratch);
                }
                catch (Exception e)
                {
                    lock (_errorLock)
                    {
                        if (index < _failedChunk)
                        {
                            _failedChunk = index;
                            _error = e;
                        }
                    }
                }
            }
        }
    }

    private static TensorShape PositiveInputs(int inputs)
    {
        Guard.Positive(inputs, nameof(inputs));
        return new TensorShape(inputs);
    }

    internal static string Format(T value) => value.ToString(null, CultureInfo.InvariantCulture);
}
