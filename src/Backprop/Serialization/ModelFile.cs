using System.Globalization;
using System.Numerics;
using System.Reflection;
using System.Security.Cryptography;

namespace Backprop;

/// <summary>
/// Saves and loads networks, and training checkpoints, in the library's versioned binary model format
/// (specified in docs/model-format.md).
/// </summary>
/// <remarks>
/// <para>A file holds magic bytes, the format version, the library version, the element type, the architecture (layers,
/// sizes, activations and their parameters), every weight and bias, optionally the training state (loss, optimizer
/// and its per-parameter state, epochs completed, dropout generators) and a SHA-256 checksum of everything before it.</para>
/// <para>Loading is safe on untrusted files: nothing is instantiated by a type name from the file, no code runs, every
/// size is checked against the bytes actually present before memory is allocated, and any problem raises
/// <see cref="InvalidDataException"/> naming what is wrong and where (the byte offset is also in its Data["Offset"]).</para>
/// <para>Saving to a path is atomic: the file is written to a temporary file in the same folder and renamed over the
/// target, so a failure part-way never destroys the previous file.</para>
/// <para>Thread safety: stateless: calls on different networks, trainers, files and streams may run on any number of
/// threads at once. Saving reads the weights (and for a checkpoint the trainer's state), so it must not overlap a
/// training step or a change of the weights; saving from an <see cref="ITrainingObserver"/>, between batches, is
/// consistent. Every save to a path writes its own temporary file and renames it over the target, so saves of one path
/// at once leave one whole model (the last rename wins), never a mix. Loading builds new objects that share nothing
/// mutable.</para>
/// </remarks>
public static class ModelFile
{
    /// <summary>The format version this library writes and the newest it reads.</summary>
    public const int FormatVersion = 1;

    /// <summary>The largest file <see cref="Load{T}(Stream)"/> accepts: 1 GiB.</summary>
    public const int MaxFileBytes = 1 << 30;

    private const int ChecksumBytes = 32;
    private const int MaxLayers = 4096;
    private const int MaxWidth = 1 << 24;
    private const ushort TrainingStateFlag = 1;

    private static ReadOnlySpan<byte> Magic => [0x89, (byte)'B', (byte)'P', (byte)'N', (byte)'N', 0x0D, 0x0A, 0x1A];

    /// <summary>Saves a network to a file, atomically.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="network">The network.</param>
    /// <param name="path">The file to create or replace.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="NotSupportedException">A layer or activation is not one of the built-ins the format can store.</exception>
    /// <exception cref="IOException">The file cannot be written; the previous file, if any, is left as it was.</exception>
    public static void Save<T>(Network<T> network, string path)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrEmpty(path);
        WriteAtomically(Encode(network, trainer: null), path, p => new FileStream(p, FileMode.CreateNew, FileAccess.Write));
    }

    /// <summary>Writes a network to a stream.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="network">The network.</param>
    /// <param name="stream">A writable stream; it is not closed.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="NotSupportedException">A layer or activation is not one of the built-ins the format can store.</exception>
    public static void Save<T>(Network<T> network, Stream stream)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(Encode(network, trainer: null));
    }

    /// <summary>Loads a network from a file (a model file or a checkpoint, whose training state is then ignored).</summary>
    /// <typeparam name="T">The element type the file was saved with.</typeparam>
    /// <param name="path">The file.</param>
    /// <returns>A network that predicts bit-identically to the saved one.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid model file for <typeparamref name="T"/>.</exception>
    public static Network<T> Load<T>(string path)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var stream = OpenRead(path);
        return Load<T>(stream);
    }

    /// <summary>Reads a network from a stream.</summary>
    /// <typeparam name="T">The element type the file was saved with.</typeparam>
    /// <param name="stream">A readable stream positioned at the file's start; it is read to its end and not closed.</param>
    /// <returns>A network that predicts bit-identically to the saved one.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="InvalidDataException">The data is not a valid model file for <typeparamref name="T"/>.</exception>
    public static Network<T> Load<T>(Stream stream)
        where T : unmanaged, IFloatingPointIeee754<T> => Decode<T>(ReadAll(stream), wantTraining: false).Network;

    /// <summary>Saves a trainer's network together with its training state (loss, optimizer state, epochs completed,
    /// dropout generators), atomically, so that training can resume exactly.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="trainer">The trainer.</param>
    /// <param name="path">The file to create or replace.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="NotSupportedException">A layer, activation, loss or optimizer is not one of the built-ins the format can store.</exception>
    /// <exception cref="IOException">The file cannot be written; the previous file, if any, is left as it was.</exception>
    public static void SaveCheckpoint<T>(Trainer<T> trainer, string path)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentException.ThrowIfNullOrEmpty(path);
        WriteAtomically(Encode(trainer.Network, trainer), path, p => new FileStream(p, FileMode.CreateNew, FileAccess.Write));
    }

    /// <summary>Writes a checkpoint to a stream.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="trainer">The trainer.</param>
    /// <param name="stream">A writable stream; it is not closed.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="NotSupportedException">A layer, activation, loss or optimizer is not one of the built-ins the format can store.</exception>
    public static void SaveCheckpoint<T>(Trainer<T> trainer, Stream stream)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(stream);
        stream.Write(Encode(trainer.Network, trainer));
    }

    /// <summary>Loads a checkpoint: a trainer whose network, loss, optimizer state and epoch count are those saved, so
    /// that <c>Fit</c> continues exactly as if training had not been interrupted.</summary>
    /// <typeparam name="T">The element type the file was saved with.</typeparam>
    /// <param name="path">The file.</param>
    /// <returns>The restored trainer.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid checkpoint for <typeparamref name="T"/> (or holds no training state).</exception>
    public static Trainer<T> LoadCheckpoint<T>(string path)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        using var stream = OpenRead(path);
        return LoadCheckpoint<T>(stream);
    }

    /// <summary>Reads a checkpoint from a stream.</summary>
    /// <typeparam name="T">The element type the file was saved with.</typeparam>
    /// <param name="stream">A readable stream positioned at the file's start; it is read to its end and not closed.</param>
    /// <returns>The restored trainer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> is null.</exception>
    /// <exception cref="InvalidDataException">The data is not a valid checkpoint for <typeparamref name="T"/> (or holds no training state).</exception>
    public static Trainer<T> LoadCheckpoint<T>(Stream stream)
        where T : unmanaged, IFloatingPointIeee754<T> => Decode<T>(ReadAll(stream), wantTraining: true).Trainer!;

    /// <summary>The library version written into files.</summary>
    internal static string LibraryVersion { get; } =
        typeof(ModelFile).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    internal static byte[] Encode<T>(Network<T> network, Trainer<T>? trainer)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w = new ModelWriter();
        w.Bytes(Magic);
        w.UInt16(FormatVersion);
        w.UInt16(trainer is null ? (ushort)0 : TrainingStateFlag);
        w.String(LibraryVersion);
        w.Byte((byte)(typeof(T) == typeof(float) ? 4 : 8));
        w.Int32(network.InputSize);
        w.Int32(network.Seed);
        w.Int32(network.Layers.Count);
        for (int l = 0; l < network.Layers.Count; l++)
        {
            switch (network.Layers[l])
            {
                case Dense<T> dense:
                    w.String("dense");
                    w.Int32(dense.Units);
                    var (activation, activationParameters) = ModelCodecs.Describe(dense.Activation, l);
                    w.String(activation);
                    ModelCodecs.Parameters(w, activationParameters);
                    var (initializer, initializerParameters) = ModelCodecs.Describe(dense.Initializer);
                    w.String(initializer);
                    ModelCodecs.Parameters(w, initializerParameters);
                    w.Double(dense.L1);
                    w.Double(dense.L2);
                    w.Values<T>(dense.Parameters[0].ValueArray);
                    w.Values<T>(dense.Parameters[1].ValueArray);
                    break;
                case Dropout<T> dropout:
                    w.String("dropout");
                    w.Double(dropout.Rate);
                    w.Int64(dropout.Seed);
                    var state = dropout.Random.State;
                    w.UInt64(state.S0);
                    w.UInt64(state.S1);
                    w.UInt64(state.S2);
                    w.UInt64(state.S3);
                    w.Byte(state.Spare.HasValue ? (byte)1 : (byte)0);
                    w.Double(state.Spare ?? 0);
                    break;
                default:
                    throw new NotSupportedException(
                        $"Layer {l} is a {network.Layers[l].GetType().Name}, which the model format cannot store: only Dense and Dropout layers can be saved.");
            }
        }

        if (trainer is not null)
        {
            EncodeTraining(w, trainer);
        }

        byte[] body = w.ToArray();
        byte[] file = new byte[body.Length + ChecksumBytes];
        body.CopyTo(file, 0);
        SHA256.HashData(body, file.AsSpan(body.Length));
        return file;
    }

    private static void EncodeTraining<T>(ModelWriter w, Trainer<T> trainer)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (loss, lossParameters) = ModelCodecs.Describe(trainer.Loss);
        w.String(loss);
        ModelCodecs.Parameters(w, lossParameters);
        var (optimizer, optimizerParameters) = ModelCodecs.Describe(trainer.Optimizer);
        var withState = (Optimizer)trainer.Optimizer;
        w.String(optimizer);
        w.Double(trainer.Optimizer.LearningRate);
        w.Double(trainer.BaseLearningRate);
        ModelCodecs.Parameters(w, optimizerParameters);
        w.Int32(trainer.EpochsCompleted);

        var parameters = AllParameters(trainer.Network);
        var states = new List<(int Index, OptimizerState<T> State)>();
        for (int i = 0; i < parameters.Count; i++)
        {
            if (withState.GetState(parameters[i]) is { } state)
            {
                states.Add((i, state));
            }
        }

        w.Int32(states.Count);
        foreach (var (index, state) in states)
        {
            w.Int32(index);
            w.Int64(state.Step);
            w.Byte((byte)state.SlotCount);
            for (int s = 0; s < state.SlotCount; s++)
            {
                w.Values<T>(state.GetSlot(s));
            }
        }
    }

    internal static (Network<T> Network, Trainer<T>? Trainer) Decode<T>(byte[] file, bool wantTraining)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.SupportedElementType<T>();
        var r = new ModelReader(file);
        if (file.Length < Magic.Length || !file.AsSpan(0, Magic.Length).SequenceEqual(Magic))
        {
            throw ModelFormatError.At("Not a Backprop model file: the first 8 bytes are not the format's magic bytes 89 42 50 4E 4E 0D 0A 1A", 0);
        }

        r.Bytes(Magic.Length, "the magic bytes");
        int version = r.UInt16("the format version");
        if (version > FormatVersion)
        {
            throw ModelFormatError.At(
                $"The file has model format version {version}, but this library (version {LibraryVersion}) reads versions up to {FormatVersion}: load it with a newer Backprop", 8);
        }

        if (version == 0)
        {
            throw ModelFormatError.At("The format version is 0, which no library ever wrote", 8);
        }

        if (file.Length < Magic.Length + 4 + ChecksumBytes)
        {
            throw ModelFormatError.At($"The file is {file.Length} bytes long, too short to hold a header and its checksum", -1);
        }

        var body = file.AsSpan(0, file.Length - ChecksumBytes);
        Span<byte> hash = stackalloc byte[ChecksumBytes];
        SHA256.HashData(body, hash);
        if (!hash.SequenceEqual(file.AsSpan(file.Length - ChecksumBytes)))
        {
            throw ModelFormatError.At("The checksum does not match the contents: the file is truncated or corrupted", file.Length - ChecksumBytes);
        }

        r = new ModelReader(body);
        r.Bytes(Magic.Length + 2, "the header");
        int flagsAt = r.Position;
        ushort flags = r.UInt16("the flags");
        if ((flags & ~TrainingStateFlag) != 0)
        {
            throw ModelFormatError.At($"Unknown flags 0x{flags:X4}", flagsAt);
        }

        r.String("the library version");
        int elementAt = r.Position;
        int elementSize = r.Byte("the element type");
        if (elementSize is not (4 or 8))
        {
            throw ModelFormatError.At($"The element type code is {elementSize}; it must be 4 (float) or 8 (double)", elementAt);
        }

        int wanted = typeof(T) == typeof(float) ? 4 : 8;
        if (elementSize != wanted)
        {
            throw ModelFormatError.At(
                $"The file holds a {(elementSize == 4 ? "float" : "double")} network; load it as Network<{(elementSize == 4 ? "float" : "double")}>, not Network<{typeof(T).Name}>", elementAt);
        }

        int inputs = r.Int32InRange("the input size", 1, MaxWidth);
        int seed = r.Int32("the seed");
        int layerCount = r.Int32InRange("the layer count", 1, MaxLayers);
        var layers = new Layer<T>[layerCount];
        var weights = new List<(T[] Weights, T[] Biases)?>(layerCount);
        var generators = new (ulong, ulong, ulong, ulong, double?)?[layerCount];
        int width = inputs;
        for (int l = 0; l < layerCount; l++)
        {
            int kindAt = r.Position;
            string kind = r.String($"layer {l}'s kind");
            switch (kind)
            {
                case "dense":
                    int units = r.Int32InRange($"layer {l}'s unit count", 1, MaxWidth);
                    int activationAt = r.Position;
                    string activationName = r.String($"layer {l}'s activation");
                    var activation = ModelCodecs.Activation(activationName, ModelCodecs.Parameters(ref r, $"layer {l}'s activation parameter"), activationAt);
                    int initializerAt = r.Position;
                    string initializerName = r.String($"layer {l}'s initializer");
                    var initializer = ModelCodecs.Initializer(initializerName, ModelCodecs.Parameters(ref r, $"layer {l}'s initializer parameter"), initializerAt);
                    int penaltyAt = r.Position;
                    double l1 = r.FiniteDouble($"layer {l}'s L1 penalty"), l2 = r.FiniteDouble($"layer {l}'s L2 penalty");
                    if (l1 < 0 || l2 < 0)
                    {
                        throw ModelFormatError.At(FormattableString.Invariant($"Layer {l}'s penalties are L1 = {l1}, L2 = {l2}; they cannot be negative"), penaltyAt);
                    }

                    T[] w = r.Values<T>((long)width * units, elementSize, $"layer {l}'s weights");
                    T[] b = r.Values<T>(units, elementSize, $"layer {l}'s biases");
                    layers[l] = new Dense<T>(units, activation, initializer) { L1 = l1, L2 = l2 };
                    weights.Add((w, b));
                    width = units;
                    break;
                case "dropout":
                    int rateAt = r.Position;
                    double rate = r.FiniteDouble($"layer {l}'s dropout rate");
                    if (!(rate >= 0 && rate < 1))
                    {
                        throw ModelFormatError.At(FormattableString.Invariant($"Layer {l}'s dropout rate is {rate}; it must be in [0, 1)"), rateAt);
                    }

                    long dropoutSeed = r.Int64($"layer {l}'s dropout seed");
                    int stateAt = r.Position;
                    var state = (r.UInt64("a generator state"), r.UInt64("a generator state"), r.UInt64("a generator state"), r.UInt64("a generator state"));
                    int hasSpare = r.Byte("a generator flag");
                    double spare = r.Double("a generator value");
                    if (hasSpare > 1 || (state.Item1 | state.Item2 | state.Item3 | state.Item4) == 0 || (hasSpare == 1 && !double.IsFinite(spare)))
                    {
                        throw ModelFormatError.At($"Layer {l}'s random generator state is invalid", stateAt);
                    }

                    layers[l] = new Dropout<T>(rate, dropoutSeed);
                    generators[l] = (state.Item1, state.Item2, state.Item3, state.Item4, hasSpare == 1 ? spare : null);
                    weights.Add(null);
                    break;
                default:
                    throw ModelFormatError.At($"Unknown layer kind '{kind}' for layer {l}", kindAt);
            }
        }

        var network = new Network<T>(inputs, seed, layers);
        for (int l = 0; l < layerCount; l++)
        {
            if (weights[l] is { } values)
            {
                values.Weights.CopyTo(layers[l].Parameters[0].ValueArray, 0);
                values.Biases.CopyTo(layers[l].Parameters[1].ValueArray, 0);
            }

            if (generators[l] is { } generator)
            {
                ((Dropout<T>)layers[l]).Random.State = generator;
            }
        }

        bool hasTraining = (flags & TrainingStateFlag) != 0;
        if (!hasTraining)
        {
            r.ExpectEnd("the last layer");
            if (wantTraining)
            {
                throw ModelFormatError.At("The file holds a network without training state: it was saved with Save, not SaveCheckpoint; load it with Load", -1);
            }

            return (network, null);
        }

        var trainer = DecodeTraining(ref r, network, elementSize);
        r.ExpectEnd("the training state");
        return (network, trainer);
    }

    private static Trainer<T> DecodeTraining<T>(ref ModelReader r, Network<T> network, int elementSize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int lossAt = r.Position;
        string lossName = r.String("the loss");
        var loss = ModelCodecs.Loss(lossName, ModelCodecs.Parameters(ref r, "the loss parameter"), lossAt);
        int optimizerAt = r.Position;
        string optimizerName = r.String("the optimizer");
        double learningRate = r.FiniteDouble("the learning rate");
        double baseLearningRate = r.FiniteDouble("the base learning rate");
        if (!(learningRate > 0) || !(baseLearningRate > 0))
        {
            throw ModelFormatError.At(FormattableString.Invariant($"The learning rates are {learningRate} and {baseLearningRate}; both must be greater than 0"), optimizerAt);
        }

        var optimizer = ModelCodecs.Optimizer(optimizerName, learningRate, ModelCodecs.Parameters(ref r, "the optimizer parameter"), optimizerAt);
        int epochs = r.Int32InRange("the number of epochs completed", 0, int.MaxValue);
        var parameters = AllParameters(network);
        int count = r.Int32InRange("the number of optimizer states", 0, parameters.Count);
        int previous = -1;
        for (int s = 0; s < count; s++)
        {
            int indexAt = r.Position;
            int index = r.Int32InRange($"optimizer state {s}'s parameter index", previous + 1, parameters.Count - 1);
            previous = index;
            long step = r.Int64($"optimizer state {s}'s step");
            int slotCount = r.Byte($"optimizer state {s}'s slot count");
            if (slotCount != optimizer.SlotNames.Count)
            {
                throw ModelFormatError.At($"Optimizer state {s} has {slotCount} slots, but {optimizerName} keeps {optimizer.SlotNames.Count}", indexAt);
            }

            var slots = new T[slotCount][];
            for (int k = 0; k < slotCount; k++)
            {
                slots[k] = r.Values<T>(parameters[index].Length, elementSize, $"optimizer state {s}'s slot {k}");
            }

            try
            {
                optimizer.RestoreState(parameters[index], step, slots);
            }
            catch (ArgumentException e)
            {
                throw ModelFormatError.At($"Optimizer state {s} is invalid: {e.Message}", indexAt);
            }
        }

        return new Trainer<T>(network, loss, optimizer) { EpochsCompleted = epochs, BaseLearningRate = baseLearningRate };
    }

    private static List<Parameter<T>> AllParameters<T>(Network<T> network)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        network.Layers.SelectMany(l => l.Parameters).ToList();

    private static FileStream OpenRead(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var stream = File.OpenRead(path);
        if (stream.Length > MaxFileBytes)
        {
            long length = stream.Length;
            stream.Dispose();
            throw ModelFormatError.At(string.Create(CultureInfo.InvariantCulture, $"{path} is {length} bytes, more than the {MaxFileBytes} a model file may have"), -1);
        }

        return stream;
    }

    private static byte[] ReadAll(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + read > MaxFileBytes)
            {
                throw ModelFormatError.At($"The data is longer than the {MaxFileBytes} bytes a model file may have", buffer.Length);
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    /// <summary>Writes to a new temporary file beside <paramref name="path"/>, flushes it to disk, and renames it over
    /// the target; on any failure the temporary file is removed and the target is untouched.</summary>
    internal static void WriteAtomically(byte[] content, string path, Func<string, Stream> create)
    {
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full) ?? ".";
        string temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = create(temporary))
            {
                stream.Write(content);
                if (stream is FileStream file)
                {
                    file.Flush(flushToDisk: true);
                }
            }

            File.Move(temporary, full, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temporary);
            }
            catch (IOException)
            {
            }

            throw;
        }
    }
}
