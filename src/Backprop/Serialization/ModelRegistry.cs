using System.Numerics;

namespace Backprop;

/// <summary>
/// The names under which model files refer to layer, activation, initializer, loss and optimizer types, each with the
/// factory that recreates an object of the type from its saved <see cref="ComponentSettings"/>.
/// </summary>
/// <remarks>
/// <para>Loading never instantiates a type named in a file: a name either is in the registry given to <c>Load</c> or
/// the file is rejected with an <see cref="InvalidDataException"/> that names it and the registration it needs.
/// Every registry holds the built-in types (those of <see cref="BuiltIns"/>); add a type of your own with the
/// <c>Add…</c> methods and pass the registry to <c>ModelFile.Load</c>,
/// <c>Network&lt;T&gt;.Load</c> or <c>Trainer&lt;T&gt;.LoadCheckpoint</c>:</para>
/// <code>
/// var registry = new ModelRegistry()
///     .AddLayer&lt;float&gt;("scale_shift", settings => new ScaleShift&lt;float&gt;())
///     .AddActivation("soft_clip", settings => new SoftClip(settings.GetDouble("limit")));
/// var network = Network&lt;float&gt;.Load("model.bpnn", registry);
/// </code>
/// <para>Saving needs no registry: each object describes itself (<see cref="ISerializableComponent"/>).</para>
/// <para>Thread safety: adding is not thread-safe; once filled, a registry may serve any number of loads at once.
/// <see cref="BuiltIns"/> is read-only.</para>
/// </remarks>
public sealed class ModelRegistry
{
    private readonly Dictionary<string, Func<ComponentSettings, IActivation>> _activations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<ComponentSettings, IInitializer>> _initializers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<ComponentSettings, ILossFunction>> _losses = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<ComponentSettings, IOptimizer>> _optimizers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ILayerFactory> _layers = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Name, Type Element), Delegate> _typedLayers = [];

    /// <summary>Creates a registry that holds the built-in types; add your own with the <c>Add…</c> methods.</summary>
    public ModelRegistry()
        : this(readOnly: false)
    {
    }

    private ModelRegistry(bool readOnly)
    {
        BuiltInComponents.Register(this);
        IsReadOnly = readOnly;
    }

    /// <summary>The built-in types alone, read-only: what <c>Load</c> uses when given no registry.</summary>
    public static ModelRegistry BuiltIns { get; } = new(readOnly: true);

    /// <summary>Whether the <c>Add…</c> methods throw: true for <see cref="BuiltIns"/>.</summary>
    public bool IsReadOnly { get; }

    /// <summary>Registers a layer type for one element type.</summary>
    /// <typeparam name="T">The element type of the networks it is loaded into.</typeparam>
    /// <param name="typeName">The layer's <see cref="ISerializableComponent.TypeName"/>.</param>
    /// <param name="factory">Creates an unbuilt layer from its saved settings; it may throw <see cref="ArgumentException"/> for invalid settings.</param>
    /// <returns>This registry, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="typeName"/> is not a valid name, or a layer is already registered under it.</exception>
    /// <exception cref="InvalidOperationException">The registry is read-only.</exception>
    public ModelRegistry AddLayer<T>(string typeName, Func<ComponentSettings, Layer<T>> factory)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(factory);
        CheckWritable();
        CheckTypeName(typeName, nameof(typeName));
        if (_layers.ContainsKey(typeName) || !_typedLayers.TryAdd((typeName, typeof(T)), factory))
        {
            throw Duplicate("layer", typeName);
        }

        return this;
    }

    /// <summary>Registers a layer type for every element type, with a factory generic in the element type.</summary>
    /// <param name="typeName">The layer's <see cref="ISerializableComponent.TypeName"/>.</param>
    /// <param name="factory">Creates an unbuilt layer from its saved settings.</param>
    /// <returns>This registry, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="typeName"/> is not a valid name, or a layer is already registered under it.</exception>
    /// <exception cref="InvalidOperationException">The registry is read-only.</exception>
    public ModelRegistry AddLayer(string typeName, ILayerFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        CheckWritable();
        CheckTypeName(typeName, nameof(typeName));
        if (_typedLayers.Keys.Any(k => k.Name == typeName) || !_layers.TryAdd(typeName, factory))
        {
            throw Duplicate("layer", typeName);
        }

        return this;
    }

    /// <summary>Registers an activation type.</summary>
    /// <param name="typeName">The activation's <see cref="ISerializableComponent.TypeName"/> (for an <see cref="IActivation"/>, its <see cref="IActivation.Name"/> unless it says otherwise).</param>
    /// <param name="factory">Creates the activation from its saved settings.</param>
    /// <returns>This registry, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="typeName"/> is not a valid name, or an activation is already registered under it.</exception>
    /// <exception cref="InvalidOperationException">The registry is read-only.</exception>
    public ModelRegistry AddActivation(string typeName, Func<ComponentSettings, IActivation> factory) => Add(_activations, "activation", typeName, factory);

    /// <summary>Registers an initializer type.</summary>
    /// <param name="typeName">The initializer's <see cref="ISerializableComponent.TypeName"/>.</param>
    /// <param name="factory">Creates the initializer from its saved settings.</param>
    /// <returns>This registry, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="typeName"/> is not a valid name, or an initializer is already registered under it.</exception>
    /// <exception cref="InvalidOperationException">The registry is read-only.</exception>
    public ModelRegistry AddInitializer(string typeName, Func<ComponentSettings, IInitializer> factory) => Add(_initializers, "initializer", typeName, factory);

    /// <summary>Registers a loss type, for checkpoints.</summary>
    /// <param name="typeName">The loss's <see cref="ISerializableComponent.TypeName"/>.</param>
    /// <param name="factory">Creates the loss from its saved settings.</param>
    /// <returns>This registry, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="typeName"/> is not a valid name, or a loss is already registered under it.</exception>
    /// <exception cref="InvalidOperationException">The registry is read-only.</exception>
    public ModelRegistry AddLoss(string typeName, Func<ComponentSettings, ILossFunction> factory) => Add(_losses, "loss", typeName, factory);

    /// <summary>Registers an optimizer type, for checkpoints.</summary>
    /// <param name="typeName">The optimizer's <see cref="ISerializableComponent.TypeName"/>.</param>
    /// <param name="factory">Creates the optimizer, without per-parameter state, from its saved settings (which hold
    /// what its <see cref="ISerializableComponent.WriteSettings"/> wrote; the learning rate is restored separately).</param>
    /// <returns>This registry, for chaining.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="typeName"/> is not a valid name, or an optimizer is already registered under it.</exception>
    /// <exception cref="InvalidOperationException">The registry is read-only.</exception>
    public ModelRegistry AddOptimizer(string typeName, Func<ComponentSettings, IOptimizer> factory) => Add(_optimizers, "optimizer", typeName, factory);

    /// <summary>Whether a layer type is registered under a name (for any element type).</summary>
    /// <param name="typeName">The name.</param>
    /// <returns>True if it is.</returns>
    public bool ContainsLayer(string typeName) => _layers.ContainsKey(typeName) || _typedLayers.Keys.Any(k => k.Name == typeName);

    /// <summary>Whether an activation type is registered under a name.</summary>
    /// <param name="typeName">The name.</param>
    /// <returns>True if it is.</returns>
    public bool ContainsActivation(string typeName) => _activations.ContainsKey(typeName);

    internal static void CheckTypeName(string typeName, string paramName)
    {
        ArgumentException.ThrowIfNullOrEmpty(typeName, paramName);
        if (typeName.Length > 128 || typeName.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or ':')))
        {
            throw new ArgumentException(
                $"The type name \"{typeName}\" ({paramName}) must be 1 to 128 ASCII letters, digits, '_', '.', '-' or ':'.", nameof(typeName));
        }
    }

    internal Layer<T> CreateLayer<T>(ComponentDescription description)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var settings = WithRegistry(description.Settings);
        if (_typedLayers.TryGetValue((description.TypeName, typeof(T)), out var typed))
        {
            return Create(() => ((Func<ComponentSettings, Layer<T>>)typed)(settings), "layer", description);
        }

        if (_layers.TryGetValue(description.TypeName, out var factory))
        {
            return Create(() => factory.Create<T>(settings), "layer", description);
        }

        string hint = _typedLayers.Keys.Any(k => k.Name == description.TypeName)
            ? $"; it is registered for another element type, not {typeof(T).Name}"
            : string.Empty;
        throw Unknown("layer", description.TypeName, $"AddLayer<{typeof(T).Name}>(\"{description.TypeName}\", settings => …)", hint);
    }

    internal IActivation CreateActivation(ComponentDescription description) =>
        CreateFrom(_activations, "activation", "AddActivation", description);

    internal IInitializer CreateInitializer(ComponentDescription description) =>
        CreateFrom(_initializers, "initializer", "AddInitializer", description);

    internal ILossFunction CreateLoss(ComponentDescription description) =>
        CreateFrom(_losses, "loss", "AddLoss", description);

    internal IOptimizer CreateOptimizer(ComponentDescription description) =>
        CreateFrom(_optimizers, "optimizer", "AddOptimizer", description);

    private static InvalidDataException Unknown(string kind, string name, string registration, string hint = "") =>
        new($"The file names the {kind} type '{name}', which the registry does not hold{hint}. Loading never instantiates a type by its name alone: " +
            $"register it before loading with new ModelRegistry().{registration} and pass the registry to Load.");

    private static TResult Create<TResult>(Func<TResult> create, string kind, ComponentDescription description)
    {
        try
        {
            return create() ?? throw new InvalidDataException($"The factory of the {kind} '{description.TypeName}' returned null.");
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"The settings of the {kind} '{description.TypeName}' {description.Settings} are invalid: {e.Message}", e);
        }
    }

    private TResult CreateFrom<TResult>(Dictionary<string, Func<ComponentSettings, TResult>> table, string kind, string method, ComponentDescription description)
    {
        if (!table.TryGetValue(description.TypeName, out var factory))
        {
            throw Unknown(kind, description.TypeName, $"{method}(\"{description.TypeName}\", settings => …)");
        }

        var settings = WithRegistry(description.Settings);
        return Create(() => factory(settings), kind, description);
    }

    private ComponentSettings WithRegistry(ComponentSettings settings)
    {
        settings.Registry = this;
        return settings;
    }

    private ModelRegistry Add<TResult>(Dictionary<string, Func<ComponentSettings, TResult>> table, string kind, string typeName, Func<ComponentSettings, TResult> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        CheckWritable();
        CheckTypeName(typeName, nameof(typeName));
        if (!table.TryAdd(typeName, factory))
        {
            throw Duplicate(kind, typeName);
        }

        return this;
    }

    private void CheckWritable()
    {
        if (IsReadOnly)
        {
            throw new InvalidOperationException("ModelRegistry.BuiltIns is read-only: create a registry with new ModelRegistry() (it holds the built-ins too) and add to that.");
        }
    }

    private static ArgumentException Duplicate(string kind, string typeName) =>
        new($"A {kind} is already registered under \"{typeName}\"; every name is registered once (the built-ins' names are taken).", nameof(typeName));
}

/// <summary>Creates a registered layer type for any element type (see <see cref="ModelRegistry.AddLayer(string, ILayerFactory)"/>).</summary>
/// <remarks>Thread safety: <see cref="Create{T}"/> may be called by several loads at once.</remarks>
public interface ILayerFactory
{
    /// <summary>Creates an unbuilt layer from its saved settings.</summary>
    /// <typeparam name="T">The element type of the network being loaded.</typeparam>
    /// <param name="settings">What the layer's <see cref="ISerializableComponent.WriteSettings"/> wrote.</param>
    /// <returns>The layer.</returns>
    /// <exception cref="ArgumentException">The settings are invalid.</exception>
    Layer<T> Create<T>(ComponentSettings settings)
        where T : unmanaged, IFloatingPointIeee754<T>;
}
