namespace Backprop;

/// <summary>
/// A type that model files and checkpoints can store: a layer, activation, initializer, loss or optimizer that describes
/// its settings under a stable name, as Keras's <c>get_config</c> does.
/// </summary>
/// <remarks>
/// <para>Saving writes <see cref="TypeName"/> and the settings that <see cref="WriteSettings"/> gives; loading looks the
/// name up in a <see cref="ModelRegistry"/> and calls the factory registered under it with those settings. Nothing is
/// ever instantiated from a type named in a file: a name that the registry does not hold fails to load. The built-in
/// types are registered in every registry; register a type of your own with <see cref="ModelRegistry"/>'s
/// <c>Add…</c> methods and pass the registry to <c>Load</c>.</para>
/// <para>A layer's trainable parameters are saved by the library (by name and shape); its other state that changes in
/// training is written by <c>Layer&lt;T&gt;.WriteState</c>. The settings are what a factory needs to create an
/// equal, unbuilt object.</para>
/// <para>Thread safety: <see cref="WriteSettings"/> is called on the saving thread and should only read the object.</para>
/// </remarks>
public interface ISerializableComponent
{
    /// <summary>The stable name the type is registered under, for example "dense" or "leaky_relu": letters, digits,
    /// '_', '.', '-' and ':' only. Keep it unchanged across versions: files refer to it.</summary>
    string TypeName { get; }

    /// <summary>Writes the settings that recreate this object (its hyper-parameters, not its trained values).</summary>
    /// <param name="settings">An empty set of settings to fill.</param>
    /// <exception cref="NotSupportedException">A component it holds (an activation of a layer, say) cannot be saved.</exception>
    void WriteSettings(ComponentSettings settings);
}
