using System.Globalization;
using System.Numerics;

namespace Backprop;

/// <summary>
/// The settings of a saved component (a layer, activation, initializer, loss or optimizer): named values that its
/// registered factory reads to recreate it, as Keras's <c>get_config</c> dictionary.
/// </summary>
/// <remarks>
/// <para>Values are numbers (double or 64-bit integer), booleans, strings, arrays of doubles or of integers, and other
/// components (an activation inside a layer, the inner layers of a residual block), which are stored as their
/// <see cref="ISerializableComponent.TypeName"/> and their own settings and recreated through the same
/// <see cref="ModelRegistry"/> on load. Keys are kept in the order they were set.</para>
/// <para>The <c>Get…</c> methods throw <see cref="ArgumentException"/> for a missing key or a value of another kind;
/// while a model file loads, that becomes an <see cref="InvalidDataException"/> naming the component.</para>
/// <para>Thread safety: not thread-safe while being filled; once filled, reads may run on any number of threads.</para>
/// </remarks>
public sealed class ComponentSettings
{
    /// <summary>The deepest nesting of components within components that a file may hold.</summary>
    public const int MaxDepth = 16;

    private readonly List<KeyValuePair<string, object>> _values = [];

    /// <summary>Creates empty settings.</summary>
    public ComponentSettings()
    {
    }

    internal ComponentSettings(ModelRegistry? registry) => Registry = registry;

    /// <summary>The number of values.</summary>
    public int Count => _values.Count;

    /// <summary>The keys, in the order they were set.</summary>
    public IEnumerable<string> Keys => _values.Select(v => v.Key);

    /// <summary>The registry that nested components are created from while a file loads; null while saving.</summary>
    internal ModelRegistry? Registry { get; set; }

    internal IReadOnlyList<KeyValuePair<string, object>> Entries => _values;

    /// <summary>Stores a value read from <see cref="Entries"/> of other settings (a wrapped layer's state, under a prefixed key).</summary>
    internal ComponentSettings SetEntry(string key, object value) => Add(key, value);

    /// <summary>Whether a value is stored under <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns>True if it is.</returns>
    public bool Contains(string key) => IndexOf(key) >= 0;

    /// <summary>Stores a number.</summary>
    /// <param name="key">The key: not empty, not set before.</param>
    /// <param name="value">A finite number.</param>
    /// <returns>These settings, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or already set, or <paramref name="value"/> is not finite.</exception>
    public ComponentSettings Set(string key, double value)
    {
        Guard.Finite(value, key);
        return Add(key, value);
    }

    /// <summary>Stores an integer.</summary>
    /// <param name="key">The key: not empty, not set before.</param>
    /// <param name="value">The value.</param>
    /// <returns>These settings, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or already set.</exception>
    public ComponentSettings Set(string key, long value) => Add(key, value);

    /// <summary>Stores an integer.</summary>
    /// <param name="key">The key: not empty, not set before.</param>
    /// <param name="value">The value.</param>
    /// <returns>These settings, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or already set.</exception>
    public ComponentSettings Set(string key, int value) => Add(key, (long)value);

    /// <summary>Stores a yes/no value.</summary>
    /// <param name="key">The key: not empty, not set before.</param>
    /// <param name="value">The value.</param>
    /// <returns>These settings, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or already set.</exception>
    public ComponentSettings Set(string key, bool value) => Add(key, value);

    /// <summary>Stores a string.</summary>
    /// <param name="key">The key: not empty, not set before.</param>
    /// <param name="value">The value.</param>
    /// <returns>These settings, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or already set.</exception>
    public ComponentSettings Set(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Add(key, value);
    }

    /// <summary>Stores a copy of an array of numbers.</summary>
    /// <param name="key">The key: not empty, not set before.</param>
    /// <param name="values">Finite numbers.</param>
    /// <returns>These settings, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or already set, or a value is not finite.</exception>
    public ComponentSettings Set(string key, ReadOnlySpan<double> values)
    {
        int bad = Guard.IndexOfNonFinite(values);
        if (bad >= 0)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{key}[{bad}] must be finite, but it is {values[bad]}."), nameof(values));
        }

        return Add(key, values.ToArray());
    }

    /// <summary>Stores a copy of an array of integers.</summary>
    /// <param name="key">The key: not empty, not set before.</param>
    /// <param name="values">The values.</param>
    /// <returns>These settings, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or already set.</exception>
    public ComponentSettings Set(string key, ReadOnlySpan<long> values) => Add(key, values.ToArray());

    /// <summary>Stores a component (for example a layer's activation) by its type name and its own settings.</summary>
    /// <param name="key">The key: not empty, not set before.</param>
    /// <param name="component">The component.</param>
    /// <returns>These settings, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="component"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or already set.</exception>
    /// <exception cref="NotSupportedException">The component (or one inside it) cannot be saved.</exception>
    public ComponentSettings Set(string key, ISerializableComponent component)
    {
        ArgumentNullException.ThrowIfNull(component);
        return Add(key, ComponentDescription.Of(component));
    }

    /// <summary>Stores a list of components (for example the inner layers of a block).</summary>
    /// <param name="key">The key: not empty, not set before.</param>
    /// <param name="components">The components, none null.</param>
    /// <returns>These settings, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="components"/> or one of them is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="key"/> is empty or already set.</exception>
    /// <exception cref="NotSupportedException">A component cannot be saved.</exception>
    public ComponentSettings Set(string key, IEnumerable<ISerializableComponent> components)
    {
        ArgumentNullException.ThrowIfNull(components);
        return Add(key, components.Select(c => ComponentDescription.Of(c ?? throw new ArgumentNullException(nameof(components), $"{key} holds a null component."))).ToArray());
    }

    /// <summary>Reads a number (an integer is converted).</summary>
    /// <param name="key">The key.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentException">No number is stored under <paramref name="key"/>.</exception>
    public double GetDouble(string key) => Get<object>(key, "a number") switch
    {
        double d => d,
        long l => l,
        _ => throw WrongKind(key, "a number"),
    };

    /// <summary>Reads an integer.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentException">No integer is stored under <paramref name="key"/>.</exception>
    public long GetInt64(string key) => Get<long>(key, "an integer");

    /// <summary>Reads an integer that fits in 32 bits.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentException">No integer is stored under <paramref name="key"/>, or it does not fit in an <see cref="int"/>.</exception>
    public int GetInt32(string key)
    {
        long value = GetInt64(key);
        return value is >= int.MinValue and <= int.MaxValue
            ? (int)value
            : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The setting '{key}' is {value}, which does not fit in a 32-bit integer."), nameof(key));
    }

    /// <summary>Reads a yes/no value.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentException">No yes/no value is stored under <paramref name="key"/>.</exception>
    public bool GetBoolean(string key) => Get<bool>(key, "a yes/no value");

    /// <summary>Reads a string.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentException">No string is stored under <paramref name="key"/>.</exception>
    public string GetString(string key) => Get<string>(key, "a string");

    /// <summary>Reads an array of numbers.</summary>
    /// <param name="key">The key.</param>
    /// <returns>A copy of the values.</returns>
    /// <exception cref="ArgumentException">No array of numbers is stored under <paramref name="key"/>.</exception>
    public double[] GetDoubles(string key) => (double[])Get<double[]>(key, "an array of numbers").Clone();

    /// <summary>Reads an array of integers.</summary>
    /// <param name="key">The key.</param>
    /// <returns>A copy of the values.</returns>
    /// <exception cref="ArgumentException">No array of integers is stored under <paramref name="key"/>.</exception>
    public long[] GetInt64s(string key) => (long[])Get<long[]>(key, "an array of integers").Clone();

    /// <summary>Recreates a stored activation through the loading registry.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The activation.</returns>
    /// <exception cref="ArgumentException">No component is stored under <paramref name="key"/>, or it is not an activation the registry knows.</exception>
    public IActivation GetActivation(string key) => LoadingRegistry(key).CreateActivation(Get<ComponentDescription>(key, "a component"));

    /// <summary>Recreates a stored initializer through the loading registry.</summary>
    /// <param name="key">The key.</param>
    /// <returns>The initializer.</returns>
    /// <exception cref="ArgumentException">No component is stored under <paramref name="key"/>, or it is not an initializer the registry knows.</exception>
    public IInitializer GetInitializer(string key) => LoadingRegistry(key).CreateInitializer(Get<ComponentDescription>(key, "a component"));

    /// <summary>Recreates a stored layer through the loading registry.</summary>
    /// <typeparam name="T">The element type of the network being loaded.</typeparam>
    /// <param name="key">The key.</param>
    /// <returns>The layer, not built.</returns>
    /// <exception cref="ArgumentException">No component is stored under <paramref name="key"/>, or it is not a layer the registry knows.</exception>
    public Layer<T> GetLayer<T>(string key)
        where T : unmanaged, IFloatingPointIeee754<T> => LoadingRegistry(key).CreateLayer<T>(Get<ComponentDescription>(key, "a component"));

    /// <summary>Recreates a stored list of layers through the loading registry.</summary>
    /// <typeparam name="T">The element type of the network being loaded.</typeparam>
    /// <param name="key">The key.</param>
    /// <returns>The layers, not built, in order.</returns>
    /// <exception cref="ArgumentException">No list of components is stored under <paramref name="key"/>, or one is not a layer the registry knows.</exception>
    public IReadOnlyList<Layer<T>> GetLayers<T>(string key)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var registry = LoadingRegistry(key);
        return Get<ComponentDescription[]>(key, "a list of components").Select(registry.CreateLayer<T>).ToArray();
    }

    /// <summary>Lists the settings.</summary>
    /// <returns>For example "{alpha = 0.01}".</returns>
    public override string ToString() =>
        "{" + string.Join(", ", _values.Select(v => $"{v.Key} = {Format(v.Value)}")) + "}";

    internal void AddRaw(string key, object value) => Add(key, value);

    internal object? GetRaw(string key)
    {
        int index = IndexOf(key);
        return index < 0 ? null : _values[index].Value;
    }

    private static string Format(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        string s => $"\"{s}\"",
        double[] a => "[" + string.Join(", ", a.Select(x => x.ToString("R", CultureInfo.InvariantCulture))) + "]",
        long[] a => "[" + string.Join(", ", a.Select(x => x.ToString(CultureInfo.InvariantCulture))) + "]",
        ComponentDescription c => c.ToString(),
        ComponentDescription[] list => "[" + string.Join(", ", list.Select(c => c.ToString())) + "]",
        _ => value.ToString() ?? string.Empty,
    };

    private ModelRegistry LoadingRegistry(string key) => Registry
        ?? throw new InvalidOperationException($"The setting '{key}' holds a component, which can be recreated only while a model file loads (through its registry).");

    private ComponentSettings Add(string key, object value)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        if (IndexOf(key) >= 0)
        {
            throw new ArgumentException($"The setting '{key}' is already set; each key is set once.", nameof(key));
        }

        _values.Add(new(key, value));
        return this;
    }

    private TValue Get<TValue>(string key, string kind)
    {
        ArgumentNullException.ThrowIfNull(key);
        int index = IndexOf(key);
        if (index < 0)
        {
            throw new ArgumentException($"The settings have no '{key}' (they hold {(_values.Count == 0 ? "nothing" : string.Join(", ", Keys))}).", nameof(key));
        }

        return _values[index].Value is TValue value ? value : throw WrongKind(key, kind);
    }

    private ArgumentException WrongKind(string key, string kind) =>
        new($"The setting '{key}' must be {kind}, but it is {Format(_values[IndexOf(key)].Value)}.", nameof(key));

    private int IndexOf(string key)
    {
        for (int i = 0; i < _values.Count; i++)
        {
            if (_values[i].Key == key)
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>A saved component: its registered type name and its settings.</summary>
/// <param name="TypeName">The name the component's type is registered under.</param>
/// <param name="Settings">What its factory needs.</param>
internal sealed record ComponentDescription(string TypeName, ComponentSettings Settings)
{
    internal static ComponentDescription Of(ISerializableComponent component)
    {
        string name = component.TypeName;
        ModelRegistry.CheckTypeName(name, component.GetType().Name);
        var settings = new ComponentSettings();
        component.WriteSettings(settings);
        return new(name, settings);
    }

    public override string ToString() => Settings.Count == 0 ? TypeName : $"{TypeName}{Settings}";
}
