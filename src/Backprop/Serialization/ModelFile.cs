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
/// <para>A file holds magic bytes, the format version, the library version, the element type, the input shape and seed,
/// every layer as its registered type name and settings (<see cref="ISerializableComponent"/>), its parameters by name
/// and shape, and its other state, optionally the training state (loss and optimizer as components, the optimizer's
/// per-parameter state, epochs completed) and a SHA-256 checksum of everything before it. Files of format version 1
/// still load.</para>
/// <para>Loading is safe on untrusted files: nothing is instantiated by a type name from the file except through the
/// factories registered in the <see cref="ModelRegistry"/> given to <c>Load</c> (<see cref="ModelRegistry.BuiltIns"/>
/// when none is), no other code runs, every
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
    public const int FormatVersion = 2;

    /// <summary>The largest file <see cref="Load{T}(Stream)"/> accepts: 1 GiB.</summary>
    public const int MaxFileBytes = 1 << 30;

    private const int ChecksumBytes = 32;
    private const int MaxLayers = 4096;
    private const int MaxWidth = 1 << 24;
    private const int MaxParameters = 1024;
    private const int MaxRank = 8;
    private const ushort TrainingStateFlag = 1;
    private const ushort PipelineFlag = 2;

    private static ReadOnlySpan<byte> Magic => [0x89, (byte)'B', (byte)'P', (byte)'N', (byte)'N', 0x0D, 0x0A, 0x1A];

    /// <summary>Saves a network to a file, atomically.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="network">The network.</param>
    /// <param name="path">The file to create or replace.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="NotSupportedException">A layer cannot be saved (it does not implement <see cref="ISerializableComponent"/>); the message names its index and type.</exception>
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
    /// <exception cref="NotSupportedException">A layer cannot be saved (it does not implement <see cref="ISerializableComponent"/>); the message names its index and type.</exception>
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
        where T : unmanaged, IFloatingPointIeee754<T> => Load<T>(stream, ModelRegistry.BuiltIns);

    /// <summary>Loads a network from a file whose layers, activations or initializers may be types of your own, created
    /// through <paramref name="registry"/>.</summary>
    /// <typeparam name="T">The element type the file was saved with.</typeparam>
    /// <param name="path">The file.</param>
    /// <param name="registry">The registry that holds every type the file names (the built-ins are in every registry).</param>
    /// <returns>A network that predicts bit-identically to the saved one.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="registry"/> is null.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid model file for <typeparamref name="T"/>, or names a type that <paramref name="registry"/> does not hold (the message names it and the registration it needs).</exception>
    public static Network<T> Load<T>(string path, ModelRegistry registry)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(registry);
        using var stream = OpenRead(path);
        return Load<T>(stream, registry);
    }

    /// <summary>Reads a network from a stream, creating the types it names through <paramref name="registry"/>.</summary>
    /// <typeparam name="T">The element type the file was saved with.</typeparam>
    /// <param name="stream">A readable stream positioned at the file's start; it is read to its end and not closed.</param>
    /// <param name="registry">The registry that holds every type the file names.</param>
    /// <returns>A network that predicts bit-identically to the saved one.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> or <paramref name="registry"/> is null.</exception>
    /// <exception cref="InvalidDataException">The data is not a valid model file for <typeparamref name="T"/>, or names a type that <paramref name="registry"/> does not hold.</exception>
    public static Network<T> Load<T>(Stream stream, ModelRegistry registry)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(registry);
        return Decode<T>(ReadAll(stream), wantTraining: false, registry).Network;
    }

    /// <summary>Saves a trainer's network together with its training state (loss, optimizer state, epochs completed,
    /// dropout generators), atomically, so that training can resume exactly.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="trainer">The trainer.</param>
    /// <param name="path">The file to create or replace.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="NotSupportedException">A layer cannot be saved (it does not implement <see cref="ISerializableComponent"/>), or the optimizer's state does not match its <see cref="IOptimizer.SlotNames"/>.</exception>
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
    /// <exception cref="NotSupportedException">A layer cannot be saved (it does not implement <see cref="ISerializableComponent"/>), or the optimizer's state does not match its <see cref="IOptimizer.SlotNames"/>.</exception>
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
        where T : unmanaged, IFloatingPointIeee754<T> => LoadCheckpoint<T>(stream, ModelRegistry.BuiltIns);

    /// <summary>Loads a checkpoint whose layers, activations, loss or optimizer may be types of your own, created through
    /// <paramref name="registry"/>.</summary>
    /// <typeparam name="T">The element type the file was saved with.</typeparam>
    /// <param name="path">The file.</param>
    /// <param name="registry">The registry that holds every type the file names (the built-ins are in every registry).</param>
    /// <returns>The restored trainer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="registry"/> is null.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a valid checkpoint for <typeparamref name="T"/> (or holds no training state), or names a type that <paramref name="registry"/> does not hold.</exception>
    public static Trainer<T> LoadCheckpoint<T>(string path, ModelRegistry registry)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(registry);
        using var stream = OpenRead(path);
        return LoadCheckpoint<T>(stream, registry);
    }

    /// <summary>Reads a checkpoint from a stream, creating the types it names through <paramref name="registry"/>.</summary>
    /// <typeparam name="T">The element type the file was saved with.</typeparam>
    /// <param name="stream">A readable stream positioned at the file's start; it is read to its end and not closed.</param>
    /// <param name="registry">The registry that holds every type the file names.</param>
    /// <returns>The restored trainer.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="stream"/> or <paramref name="registry"/> is null.</exception>
    /// <exception cref="InvalidDataException">The data is not a valid checkpoint for <typeparamref name="T"/> (or holds no training state), or names a type that <paramref name="registry"/> does not hold.</exception>
    public static Trainer<T> LoadCheckpoint<T>(Stream stream, ModelRegistry registry)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(registry);
        return Decode<T>(ReadAll(stream), wantTraining: true, registry).Trainer!;
    }

    /// <summary>The library version written into files.</summary>
    internal static string LibraryVersion { get; } =
        typeof(ModelFile).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    internal static byte[] Encode<T>(Network<T> network, Trainer<T>? trainer, ComponentSettings? pipeline = null)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var w = new ModelWriter();
        w.Bytes(Magic);
        w.UInt16(FormatVersion);
        w.UInt16((ushort)((trainer is null ? 0 : TrainingStateFlag) | (pipeline is null ? 0 : PipelineFlag)));
        w.String(LibraryVersion);
        w.Byte((byte)(typeof(T) == typeof(float) ? 4 : 8));
        var inputShape = network.InputShape;
        w.Byte((byte)inputShape.Rank);
        for (int d = 0; d < inputShape.Rank; d++)
        {
            w.Int32(inputShape[d]);
        }

        w.Int32(network.Seed);
        w.Int32(network.Layers.Count);
        for (int l = 0; l < network.Layers.Count; l++)
        {
            var layer = network.Layers[l];
            if (layer is not ISerializableComponent serializable)
            {
                throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                    $"Layer {l} is a {layer.GetType().FullName} ({layer}), which cannot be saved: it does not implement ISerializableComponent (a TypeName and WriteSettings), which the model format needs to store and recreate it."));
            }

            ComponentDescription description;
            var state = new ComponentSettings();
            try
            {
                description = ComponentDescription.Of(serializable);
                layer.WriteState(state);
            }
            catch (NotSupportedException e)
            {
                throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture, $"Layer {l} ({layer}, a {layer.GetType().Name}) cannot be saved: {e.Message}"), e);
            }
            catch (ArgumentException e)
            {
                throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture, $"Layer {l} ({layer}, a {layer.GetType().Name}) cannot be saved: {e.Message}"), e);
            }

            SettingsCodec.WriteComponent(w, description, depth: 0);
            w.Int32(layer.Parameters.Count);
            foreach (var parameter in layer.Parameters)
            {
                w.String(parameter.Name);
                w.Byte((byte)parameter.Shape.Rank);
                for (int d = 0; d < parameter.Shape.Rank; d++)
                {
                    w.Int32(parameter.Shape[d]);
                }

                w.Values<T>(parameter.ValueArray);
            }

            SettingsCodec.WriteSettings(w, state, depth: 0);
        }

        if (trainer is not null)
        {
            EncodeTraining(w, trainer);
        }

        if (pipeline is not null)
        {
            SettingsCodec.WriteSettings(w, pipeline, depth: 0);
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
        SettingsCodec.WriteComponent(w, Describe(trainer.Loss, "loss"), depth: 0);
        var optimizer = trainer.Optimizer;
        SettingsCodec.WriteComponent(w, Describe(optimizer, "optimizer"), depth: 0);
        w.Double(optimizer.LearningRate);
        w.Double(trainer.BaseLearningRate);
        w.Int32(trainer.EpochsCompleted);

        var parameters = AllParameters(trainer.Network);
        int slotCount = optimizer.SlotNames.Count;
        var states = new List<(int Index, OptimizerState<T> State)>();
        for (int i = 0; i < parameters.Count; i++)
        {
            if (optimizer.GetState(parameters[i]) is { } state)
            {
                if (state.SlotCount != slotCount || state.Length != parameters[i].Length || slotCount > byte.MaxValue)
                {
                    throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                        $"The optimizer {optimizer.GetType().Name} returned a state for {parameters[i]} with {state.SlotCount} slots of {state.Length} values, but it names {slotCount} slots (SlotNames) and the parameter has {parameters[i].Length} values: the checkpoint cannot be saved."));
                }

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

    private static ComponentDescription Describe(ISerializableComponent component, string what)
    {
        try
        {
            return ComponentDescription.Of(component);
        }
        catch (ArgumentException e)
        {
            throw new NotSupportedException($"The {what} {component.GetType().Name} cannot be stored in a checkpoint: {e.Message}", e);
        }
    }

    internal static (Network<T> Network, Trainer<T>? Trainer) Decode<T>(byte[] file, bool wantTraining, ModelRegistry registry)
        where T : unmanaged, IFloatingPointIeee754<T> => Decode<T>(file, wantTraining, registry, out _);

    /// <summary>Decodes a file, with the settings of the table pipeline it holds (flag bit 1), if any.</summary>
    internal static (Network<T> Network, Trainer<T>? Trainer) Decode<T>(byte[] file, bool wantTraining, ModelRegistry registry, out ComponentSettings? pipeline)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        pipeline = null;
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
        if ((flags & ~(TrainingStateFlag | PipelineFlag)) != 0 || (version == 1 && (flags & PipelineFlag) != 0))
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

        bool hasTraining = (flags & TrainingStateFlag) != 0;
        if (!hasTraining && wantTraining)
        {
            throw ModelFormatError.At("The file holds a network without training state: it was saved with Save, not SaveCheckpoint; load it with Load", -1);
        }

        if (version == 1)
        {
            return DecodeV1<T>(ref r, hasTraining, elementSize);
        }

        var decoded = DecodeV2<T>(ref r, hasTraining, (flags & PipelineFlag) != 0, elementSize, registry, out var settings);
        pipeline = settings;
        return decoded;
    }

    // Format version 1: Dense and Dropout layers only, with positional fields (docs/model-format.md, "Version 1").
    private static (Network<T> Network, Trainer<T>? Trainer) DecodeV1<T>(ref ModelReader r, bool hasTraining, int elementSize)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
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
                layers[l].Parameters[0].MarkChanged();
                layers[l].Parameters[1].MarkChanged();
            }

            if (generators[l] is { } generator)
            {
                ((Dropout<T>)layers[l]).Random.State = generator;
            }
        }

        if (!hasTraining)
        {
            r.ExpectEnd("the last layer");
            return (network, null);
        }

        var trainer = DecodeTrainingV1(ref r, network, elementSize);
        r.ExpectEnd("the training state");
        return (network, trainer);
    }

    private static Trainer<T> DecodeTrainingV1<T>(ref ModelReader r, Network<T> network, int elementSize)
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

    // Format version 2: every component by its registered name and settings, parameters by name and shape.
    private static (Network<T> Network, Trainer<T>? Trainer) DecodeV2<T>(ref ModelReader r, bool hasTraining, bool hasPipeline, int elementSize, ModelRegistry registry,
        out ComponentSettings? pipeline)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        pipeline = null;
        int shapeAt = r.Position;
        var inputShape = ReadShape(ref r, "the input shape", MaxWidth);
        if (inputShape is null)
        {
            throw ModelFormatError.At(string.Create(CultureInfo.InvariantCulture, $"The input shape holds more than {MaxWidth} values"), shapeAt);
        }

        int seed = r.Int32("the seed");
        int layerCount = r.Int32InRange("the layer count", 1, MaxLayers);
        var descriptions = new (ComponentDescription Component, int At, SavedParameter<T>[] Parameters, ComponentSettings State, int StateAt)[layerCount];
        for (int l = 0; l < layerCount; l++)
        {
            string what = string.Create(CultureInfo.InvariantCulture, $"layer {l}");
            int at = r.Position;
            var component = SettingsCodec.ReadComponent(ref r, what, depth: 0);
            int count = r.Int32InRange($"{what}'s parameter count", 0, Math.Min(MaxParameters, r.Remaining));
            var parameters = new SavedParameter<T>[count];
            for (int p = 0; p < count; p++)
            {
                int parameterAt = r.Position;
                string name = r.String(string.Create(CultureInfo.InvariantCulture, $"{what}'s parameter {p}'s name"));
                string where = $"{what}'s parameter '{name}'";
                int dimsAt = r.Position;
                var shape = ReadShape(ref r, where + "'s shape", int.MaxValue)
                    ?? throw ModelFormatError.At($"{where}'s shape holds more values than an array can", dimsAt);
                parameters[p] = new(name, shape, r.Values<T>(shape.Size, elementSize, where + "'s values"), parameterAt);
            }

            int stateAt = r.Position;
            var state = SettingsCodec.ReadSettings(ref r, what + "'s state", depth: 0);
            descriptions[l] = (component, at, parameters, state, stateAt);
        }

        var layers = new Layer<T>[layerCount];
        for (int l = 0; l < layerCount; l++)
        {
            try
            {
                layers[l] = registry.CreateLayer<T>(descriptions[l].Component);
                layers[l].ParameterBudget = descriptions[l].Parameters.Sum(p => (long)p.Values.Length);
            }
            catch (InvalidDataException e)
            {
                throw ModelFormatError.At(string.Create(CultureInfo.InvariantCulture, $"Layer {l}: {e.Message.TrimEnd('.')}"), descriptions[l].At, e);
            }
        }

        Network<T> network;
        try
        {
            network = new Network<T>(inputShape, seed, layers);
        }
        catch (ArgumentException e)
        {
            throw ModelFormatError.At($"The layers do not fit together on the input shape {inputShape}: {e.Message.TrimEnd('.')}", shapeAt, e);
        }

        for (int l = 0; l < layerCount; l++)
        {
            layers[l].ParameterBudget = long.MaxValue;
            RestoreLayer(layers[l], l, descriptions[l].Parameters, descriptions[l].State, descriptions[l].StateAt, registry);
        }

        var trainer = hasTraining ? DecodeTrainingV2(ref r, network, elementSize, registry) : null;
        if (hasPipeline)
        {
            pipeline = SettingsCodec.ReadSettings(ref r, "the table pipeline", depth: 0);
        }

        r.ExpectEnd(hasPipeline ? "the table pipeline" : hasTraining ? "the training state" : "the last layer");
        return (network, trainer);
    }

    // Checks the saved parameters against those the freshly built layer created (by name and shape), copies their
    // values in, and restores the layer's other state.
    private static void RestoreLayer<T>(Layer<T> layer, int index, SavedParameter<T>[] saved, ComponentSettings state, int stateAt, ModelRegistry registry)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var built = layer.Parameters;
        if (built.Count != saved.Length)
        {
            throw ModelFormatError.At(string.Create(CultureInfo.InvariantCulture,
                $"Layer {index} ({layer}) has {built.Count} parameters ({string.Join(", ", built)}), but the file holds {saved.Length} ({string.Join(", ", saved.Select(p => $"{p.Name}[{p.Shape}]"))})"),
                saved.Length > 0 ? saved[0].At : stateAt);
        }

        foreach (var parameter in saved)
        {
            Parameter<T>? target = null;
            foreach (var candidate in built)
            {
                if (candidate.Name == parameter.Name)
                {
                    target = candidate;
                }
            }

            if (target is null)
            {
                throw ModelFormatError.At(
                    $"Layer {index} ({layer}) has no parameter named '{parameter.Name}' (it has {string.Join(", ", built.Select(p => p.Name))})", parameter.At);
            }

            if (target.Shape != parameter.Shape)
            {
                throw ModelFormatError.At(
                    $"Layer {index} ({layer})'s parameter '{parameter.Name}' has the shape {target.Shape} when built, but the file holds the shape {parameter.Shape}", parameter.At);
            }

            parameter.Values.CopyTo(target.ValueArray, 0);
            target.MarkChanged();
        }

        state.Registry = registry;
        try
        {
            layer.ReadState(state);
        }
        catch (ArgumentException e)
        {
            throw ModelFormatError.At(string.Create(CultureInfo.InvariantCulture, $"Layer {index} ({layer})'s state {state} is invalid: {e.Message.TrimEnd('.')}"), stateAt, e);
        }
    }

    private static Trainer<T> DecodeTrainingV2<T>(ref ModelReader r, Network<T> network, int elementSize, ModelRegistry registry)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int lossAt = r.Position;
        var lossDescription = SettingsCodec.ReadComponent(ref r, "the loss", depth: 0);
        int optimizerAt = r.Position;
        var optimizerDescription = SettingsCodec.ReadComponent(ref r, "the optimizer", depth: 0);
        int ratesAt = r.Position;
        double learningRate = r.FiniteDouble("the learning rate");
        double baseLearningRate = r.FiniteDouble("the base learning rate");
        if (!(learningRate > 0) || !(baseLearningRate > 0))
        {
            throw ModelFormatError.At(FormattableString.Invariant($"The learning rates are {learningRate} and {baseLearningRate}; both must be greater than 0"), ratesAt);
        }

        int epochs = r.Int32InRange("the number of epochs completed", 0, int.MaxValue);
        ILossFunction loss;
        IOptimizer optimizer;
        try
        {
            loss = registry.CreateLoss(lossDescription);
        }
        catch (InvalidDataException e)
        {
            throw ModelFormatError.At(e.Message.TrimEnd('.'), lossAt, e);
        }

        try
        {
            optimizer = registry.CreateOptimizer(optimizerDescription);
            optimizer.LearningRate = learningRate;
        }
        catch (InvalidDataException e)
        {
            throw ModelFormatError.At(e.Message.TrimEnd('.'), optimizerAt, e);
        }
        catch (ArgumentException e)
        {
            throw ModelFormatError.At($"The optimizer '{optimizerDescription.TypeName}' refuses the learning rate: {e.Message.TrimEnd('.')}", ratesAt, e);
        }

        var parameters = AllParameters(network);
        int count = r.Int32InRange("the number of optimizer states", 0, parameters.Count);
        int previous = -1;
        int slotNames = optimizer.SlotNames.Count;
        for (int s = 0; s < count; s++)
        {
            int indexAt = r.Position;
            int index = r.Int32InRange($"optimizer state {s}'s parameter index", previous + 1, parameters.Count - 1);
            previous = index;
            long step = r.Int64($"optimizer state {s}'s step");
            int slotCount = r.Byte($"optimizer state {s}'s slot count");
            if (slotCount != slotNames)
            {
                throw ModelFormatError.At($"Optimizer state {s} has {slotCount} slots, but {optimizerDescription.TypeName} keeps {slotNames}", indexAt);
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
                throw ModelFormatError.At($"Optimizer state {s} is invalid: {e.Message}", indexAt, e);
            }
            catch (NotSupportedException e)
            {
                throw ModelFormatError.At($"Optimizer state {s} cannot be restored: {e.Message}", indexAt, e);
            }
        }

        return new Trainer<T>(network, loss, optimizer) { EpochsCompleted = epochs, BaseLearningRate = baseLearningRate };
    }

    // A shape of rank 1 to MaxRank, each dimension at least 1; null when its size exceeds maxSize.
    private static TensorShape? ReadShape(ref ModelReader r, string what, int maxSize)
    {
        int rank = r.Byte(what + "'s rank");
        int rankAt = r.Position - 1;
        if (rank is < 1 or > MaxRank)
        {
            throw ModelFormatError.At(string.Create(CultureInfo.InvariantCulture, $"{what}'s rank is {rank}; it must be in [1, {MaxRank}]"), rankAt);
        }

        var dims = new int[rank];
        long size = 1;
        for (int d = 0; d < rank; d++)
        {
            dims[d] = r.Int32InRange(string.Create(CultureInfo.InvariantCulture, $"{what}'s dimension {d}"), 1, int.MaxValue);
            size = Math.Min(size * dims[d], (long)int.MaxValue + 1);
        }

        return size > maxSize ? null : new TensorShape(dims);
    }

    private sealed record SavedParameter<T>(string Name, TensorShape Shape, T[] Values, int At);

    private static List<Parameter<T>> AllParameters<T>(Network<T> network)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        network.Layers.SelectMany(l => l.Parameters).ToList();

    internal static FileStream OpenRead(string path)
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

    internal static byte[] ReadAll(Stream stream)
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
