using System.Globalization;
using System.Numerics;

namespace Backprop;

/// <summary>
/// A layer or activation that can write itself into an ONNX graph: <c>ExportOnnx</c> asks every layer of a network, and
/// a layer asks its activation (<see cref="OnnxGraph.AddActivation"/>). A layer or activation that does not implement
/// it makes <c>ExportOnnx</c> throw <see cref="NotSupportedException"/> naming it.
/// </summary>
/// <remarks>
/// <para>The values flowing between nodes are float tensors of shape [N, width] (N the batch), one sample per row, as
/// the layer's <c>Forward</c> sees them. Add the nodes that compute the output from <c>input</c> with
/// <see cref="OnnxGraph.AddNode"/>, the constants they need with <see cref="OnnxGraph.AddInitializer{T}"/> or
/// <see cref="OnnxGraph.AddScalar"/>, and name new values with <see cref="OnnxGraph.Name"/>; return the name of the
/// value that holds the output (<c>input</c> itself for an operation that is the identity at inference).</para>
/// <para>Thread safety: the exporter calls it on the exporting thread, while the network neither trains nor changes.</para>
/// </remarks>
public interface IOnnxExportable
{
    /// <summary>Adds the nodes that compute this layer's or activation's output at inference.</summary>
    /// <param name="graph">The graph being built, positioned at the current layer.</param>
    /// <param name="input">The name of the value that holds the input.</param>
    /// <returns>The name of the value that holds the output.</returns>
    /// <exception cref="NotSupportedException">A setting or part of the component cannot be expressed in ONNX.</exception>
    string ExportOnnx(OnnxGraph graph, string input);
}

/// <summary>An attribute of an ONNX node: an integer or a float.</summary>
public readonly record struct OnnxAttribute
{
    private OnnxAttribute(string name, bool isInt, long intValue, float floatValue)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        IsInt = isInt;
        IntValue = intValue;
        FloatValue = floatValue;
    }

    /// <summary>The attribute's name, for example "alpha".</summary>
    public string Name { get; }

    /// <summary>Whether it is an integer (INT) rather than a float (FLOAT).</summary>
    public bool IsInt { get; }

    /// <summary>The value of an integer attribute.</summary>
    public long IntValue { get; }

    /// <summary>The value of a float attribute.</summary>
    public float FloatValue { get; }

    /// <summary>An integer attribute.</summary>
    /// <param name="name">The name; not empty.</param>
    /// <param name="value">The value.</param>
    /// <returns>The attribute.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    public static OnnxAttribute Int(string name, long value) => new(name, true, value, 0);

    /// <summary>A float attribute.</summary>
    /// <param name="name">The name; not empty.</param>
    /// <param name="value">The value.</param>
    /// <returns>The attribute.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    public static OnnxAttribute Float(string name, float value) => new(name, false, 0, value);
}

/// <summary>
/// The ONNX graph (opset <see cref="OnnxExporter.OpsetVersion"/>, default domain) being built by <c>ExportOnnx</c>, as
/// a layer or activation that implements <see cref="IOnnxExportable"/> sees it: it adds initializers (constant
/// tensors), nodes with attributes and fresh value names, all prefixed with the current layer's name ("layer3").
/// </summary>
/// <remarks>Thread safety: not thread-safe; used by one export on one thread.</remarks>
public sealed class OnnxGraph
{
    private readonly OnnxGraphBuilder _builder;

    internal OnnxGraph(OnnxGraphBuilder builder) => _builder = builder;

    /// <summary>The index of the layer being exported.</summary>
    public int LayerIndex { get; private set; }

    /// <summary>The prefix of the current layer's names: "layer" and its index, for example "layer0".</summary>
    public string Prefix { get; private set; } = "layer0";

    /// <summary>The current layer's description, for messages.</summary>
    public string LayerDescription { get; private set; } = string.Empty;

    /// <summary>A name in the current layer: <see cref="Prefix"/>, a dot and <paramref name="localName"/>, for example
    /// "layer0.z". Use it for new values and node names; each name of a value must be produced by one node only.</summary>
    /// <param name="localName">The name within the layer; not empty.</param>
    /// <returns>The full name.</returns>
    /// <exception cref="ArgumentException"><paramref name="localName"/> is empty.</exception>
    public string Name(string localName)
    {
        ArgumentException.ThrowIfNullOrEmpty(localName);
        return $"{Prefix}.{localName}";
    }

    /// <summary>Adds a node.</summary>
    /// <param name="opType">The operator, for example "Gemm" or "Relu".</param>
    /// <param name="name">The node's name (see <see cref="Name"/>).</param>
    /// <param name="inputs">The names of its inputs, in the operator's order.</param>
    /// <param name="output">The name of the value it produces.</param>
    /// <param name="attributes">Its attributes.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="opType"/>, <paramref name="name"/>, <paramref name="output"/> or an input name is empty.</exception>
    public void AddNode(string opType, string name, IReadOnlyList<string> inputs, string output, params OnnxAttribute[] attributes)
    {
        ArgumentException.ThrowIfNullOrEmpty(opType);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentException.ThrowIfNullOrEmpty(output);
        ArgumentNullException.ThrowIfNull(attributes);
        foreach (string input in inputs)
        {
            ArgumentException.ThrowIfNullOrEmpty(input, nameof(inputs));
        }

        _builder.AddNode(opType, name, [.. inputs], output, (OnnxAttribute[])attributes.Clone());
    }

    /// <summary>Adds a constant float tensor of the current layer, named <see cref="Name"/>(<paramref name="localName"/>),
    /// from values in row-major order (converted to float32).</summary>
    /// <typeparam name="T">The element type of the values.</typeparam>
    /// <param name="localName">The name within the layer, for example "weights".</param>
    /// <param name="shape">The tensor's shape; its size must be the number of values.</param>
    /// <param name="values">The values, row-major.</param>
    /// <returns>The tensor's full name, to use as a node input.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="shape"/> is null.</exception>
    /// <exception cref="ArgumentException">The number of values is not the shape's size, or a value is not finite within the float32 range.</exception>
    public string AddInitializer<T>(string localName, TensorShape shape, ReadOnlySpan<T> values)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (values.Length != shape.Size)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"values must hold {shape.Size} values (the size of {shape}), but it holds {values.Length}."), nameof(values));
        }

        return _builder.AddTensor(Name(localName), shape.ToArray(), values, LayerIndex, localName);
    }

    /// <summary>Adds a constant one-dimensional int64 tensor of the current layer, named <see cref="Name"/>(<paramref name="localName"/>):
    /// the shape operand of a Reshape, for example.</summary>
    /// <param name="localName">The name within the layer, for example "shape".</param>
    /// <param name="values">The values.</param>
    /// <returns>The tensor's full name, to use as a node input.</returns>
    /// <exception cref="ArgumentException"><paramref name="localName"/> is empty, or the graph already holds a tensor of that name.</exception>
    public string AddInt64Initializer(string localName, ReadOnlySpan<long> values) => _builder.AddInt64Tensor(Name(localName), values);

    /// <summary>Adds a float scalar (rank 0) shared by the whole graph under exactly <paramref name="name"/> (not
    /// prefixed), for example "gelu.half"; adding the same name again with the same value reuses it.</summary>
    /// <param name="name">The graph-wide name.</param>
    /// <param name="value">The value.</param>
    /// <returns><paramref name="name"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or already holds another value.</exception>
    public string AddScalar(string name, float value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        _builder.AddScalar(name, value);
        return name;
    }

    /// <summary>Converts a setting to a float attribute's value.</summary>
    /// <param name="value">The setting.</param>
    /// <param name="what">What it is, for the message ("alpha").</param>
    /// <returns>The value as a float.</returns>
    /// <exception cref="NotSupportedException">It is outside the float32 range that ONNX attributes use.</exception>
    public float ToFloat(double value, string what)
    {
        float single = (float)value;
        if (!float.IsFinite(single))
        {
            throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                $"Layer {LayerIndex} ({LayerDescription}) has {what} {value}, which is outside the float32 range ONNX attributes use."));
        }

        return single;
    }

    /// <summary>Adds a layer's activation: its own nodes if it implements <see cref="IOnnxExportable"/>.</summary>
    /// <param name="activation">The activation.</param>
    /// <param name="input">The name of the value holding the pre-activations.</param>
    /// <returns>The name of the value holding the activations.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="activation"/> is null.</exception>
    /// <exception cref="NotSupportedException">The activation does not implement <see cref="IOnnxExportable"/>.</exception>
    public string AddActivation(IActivation activation, string input)
    {
        ArgumentNullException.ThrowIfNull(activation);
        return activation is IOnnxExportable exportable
            ? exportable.ExportOnnx(this, input)
            : throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                $"Layer {LayerIndex} ({LayerDescription}) has activation '{activation.Name}' ({activation.GetType().FullName}), which has no ONNX translation: it does not implement IOnnxExportable."));
    }

    /// <summary>Names what follows within <see cref="Prefix"/>.<paramref name="localName"/> (a layer inside a block);
    /// returns the prefix to give back to <see cref="LeaveScope"/>.</summary>
    internal string EnterScope(string localName)
    {
        string previous = Prefix;
        Prefix = Name(localName);
        return previous;
    }

    internal void LeaveScope(string previous) => Prefix = previous;

    internal void EnterLayer(int index, string description)
    {
        LayerIndex = index;
        Prefix = string.Create(CultureInfo.InvariantCulture, $"layer{index}");
        LayerDescription = description;
    }
}
