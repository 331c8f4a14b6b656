using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;

namespace Backprop;

/// <summary>
/// Translates a network, layer by layer, into an ONNX ModelProto (<see cref="OnnxProtoMessage"/>): each layer (and
/// through it its activation) adds its own nodes through <see cref="IOnnxExportable"/> and the <see cref="OnnxGraph"/>
/// facade. See <see cref="OnnxExporter"/> for the built-ins' mapping.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly List<Node> _nodes = [];
    private readonly List<OnnxProtoMessage> _initializers = [];
    private readonly HashSet<string> _initializerNames = [];
    private readonly Dictionary<string, float> _scalars = [];

    private OnnxGraphBuilder()
    {
    }

    /// <summary>Builds the model of a network; throws <see cref="NotSupportedException"/> for a layer or activation that
    /// does not implement <see cref="IOnnxExportable"/>.</summary>
    public static OnnxProtoMessage Build<T>(Network<T> network) where T : unmanaged, IFloatingPointIeee754<T> => Build(network, null, null);

    /// <summary>Builds the model of a network whose inputs are first scaled as (x − center) / scale, per input (a table
    /// pipeline's numeric columns): a Sub and a Div node before the first layer.</summary>
    public static OnnxProtoMessage Build<T>(Network<T> network, double[]? center, double[]? scale)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var builder = new OnnxGraphBuilder();
        var graph = new OnnxGraph(builder);
        string current = OnnxExporter.InputName;
        if (center is not null && scale is not null)
        {
            builder.AddTensor<double>("pipeline_center", [center.Length], center, -1, "pipeline centers");
            builder.AddTensor<double>("pipeline_scale", [scale.Length], scale, -1, "pipeline scales");
            builder.AddNode("Sub", "pipeline_sub", [current, "pipeline_center"], "pipeline_centered", []);
            builder.AddNode("Div", "pipeline_div", ["pipeline_centered", "pipeline_scale"], "pipeline_scaled", []);
            current = "pipeline_scaled";
        }

        for (int l = 0; l < network.Layers.Count; l++)
        {
            var layer = network.Layers[l];
            if (layer is not IOnnxExportable exportable)
            {
                throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                    $"Layer {l} ({layer}, a {layer.GetType().FullName}) has no ONNX translation: it does not implement IOnnxExportable."));
            }

            graph.EnterLayer(l, layer.ToString() ?? layer.GetType().Name);
            current = exportable.ExportOnnx(graph, current);
        }

        return builder.BuildModel(network.ToString(), network.InputSize, network.OutputSize, current);
    }

    internal void AddNode(string opType, string name, string[] inputs, string output, OnnxAttribute[] attributes) =>
        _nodes.Add(new Node(opType, name, inputs, output, attributes));

    internal void AddScalar(string name, float value)
    {
        if (_scalars.TryGetValue(name, out float existing))
        {
            if (BitConverter.SingleToInt32Bits(existing) != BitConverter.SingleToInt32Bits(value))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The graph's scalar \"{name}\" already holds {existing}, not {value}."), nameof(name));
            }

            return;
        }

        if (_initializerNames.Contains(name))
        {
            throw new ArgumentException($"The graph already holds a tensor named \"{name}\".", nameof(name));
        }

        _scalars.Add(name, value);
        _initializerNames.Add(name);
        var data = new byte[sizeof(float)];
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(), value);
        // No dims: a scalar (rank 0), broadcast against the activations.
        _initializers.Add(new OnnxProtoMessage()
            .Add(OnnxProto.TensorDataType, OnnxProto.DataTypeFloat)
            .Add(OnnxProto.TensorName, name)
            .Add(OnnxProto.TensorRawData, data));
    }

    internal string AddTensor<T>(string name, int[] dims, ReadOnlySpan<T> values, int layerIndex, string what)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var data = new byte[checked(values.Length * sizeof(float))];
        for (int i = 0; i < values.Length; i++)
        {
            float single = float.CreateTruncating(values[i]);
            if (!float.IsFinite(single))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Layer {layerIndex}'s {what} must be finite numbers within the float32 range to export to ONNX, but element {i} is {values[i]}."),
                    "network");
            }

            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(i * sizeof(float)), single);
        }

        var tensor = new OnnxProtoMessage();
        foreach (int dim in dims)
        {
            tensor.Add(OnnxProto.TensorDims, dim);
        }

        tensor.Add(OnnxProto.TensorDataType, OnnxProto.DataTypeFloat)
            .Add(OnnxProto.TensorName, name)
            .Add(OnnxProto.TensorRawData, data);
        if (!_initializerNames.Add(name))
        {
            throw new ArgumentException($"The graph already holds a tensor named \"{name}\".", nameof(name));
        }

        _initializers.Add(tensor);
        return name;
    }

    internal string AddInt64Tensor(string name, ReadOnlySpan<long> values)
    {
        var data = new byte[checked(values.Length * sizeof(long))];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan(i * sizeof(long)), values[i]);
        }

        if (!_initializerNames.Add(name))
        {
            throw new ArgumentException($"The graph already holds a tensor named \"{name}\".", nameof(name));
        }

        _initializers.Add(new OnnxProtoMessage()
            .Add(OnnxProto.TensorDims, values.Length)
            .Add(OnnxProto.TensorDataType, OnnxProto.DataTypeInt64)
            .Add(OnnxProto.TensorName, name)
            .Add(OnnxProto.TensorRawData, data));
        return name;
    }

    internal OnnxProtoMessage BuildModel(string description, int inputs, int outputs, string last)
    {
        if (_nodes.Count == 0 || last == OnnxExporter.InputName || _nodes[^1].Output != last)
        {
            // Only dropout, or a last layer that passes on a value made earlier: the graph still needs a node from it to the output.
            AddNode("Identity", "identity", [last], OnnxExporter.OutputName, []);
        }
        else
        {
            // The last node is the one that produced `last`; give its value the graph output's name.
            _nodes[^1] = _nodes[^1] with { Output = OnnxExporter.OutputName };
        }

        var graph = new OnnxProtoMessage();
        foreach (var node in _nodes)
        {
            graph.Add(OnnxProto.GraphNode, node.ToProto());
        }

        graph.Add(OnnxProto.GraphName, "backprop");
        foreach (var initializer in _initializers)
        {
            graph.Add(OnnxProto.GraphInitializer, initializer);
        }

        graph.Add(OnnxProto.GraphDocString, description)
            .Add(OnnxProto.GraphInput, ValueInfo(OnnxExporter.InputName, inputs))
            .Add(OnnxProto.GraphOutput, ValueInfo(OnnxExporter.OutputName, outputs));

        string version = typeof(OnnxGraphBuilder).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        return new OnnxProtoMessage()
            .Add(OnnxProto.ModelIrVersion, OnnxExporter.IrVersion)
            .Add(OnnxProto.ModelProducerName, OnnxExporter.ProducerName)
            .Add(OnnxProto.ModelProducerVersion, version)
            .Add(OnnxProto.ModelDocString, description)
            .Add(OnnxProto.ModelGraph, graph)
            .Add(OnnxProto.ModelOpsetImport, new OnnxProtoMessage()
                .Add(OnnxProto.OpsetDomain, string.Empty)
                .Add(OnnxProto.OpsetVersion, OnnxExporter.OpsetVersion));
    }

    /// <summary>A float tensor of shape [N, width], N the symbolic batch dimension.</summary>
    private static OnnxProtoMessage ValueInfo(string name, int width)
    {
        var shape = new OnnxProtoMessage()
            .Add(OnnxProto.ShapeDim, new OnnxProtoMessage().Add(OnnxProto.DimensionParam, OnnxExporter.BatchDimension))
            .Add(OnnxProto.ShapeDim, new OnnxProtoMessage().Add(OnnxProto.DimensionValue, width));
        var tensorType = new OnnxProtoMessage()
            .Add(OnnxProto.TypeTensorElemType, OnnxProto.DataTypeFloat)
            .Add(OnnxProto.TypeTensorShape, shape);
        return new OnnxProtoMessage()
            .Add(OnnxProto.ValueInfoName, name)
            .Add(OnnxProto.ValueInfoType, new OnnxProtoMessage().Add(OnnxProto.TypeTensorType, tensorType));
    }

    private static OnnxProtoMessage AttributeProto(OnnxAttribute attribute)
    {
        var proto = new OnnxProtoMessage().Add(OnnxProto.AttributeName, attribute.Name);
        if (attribute.IsInts)
        {
            foreach (long value in attribute.IntValues)
            {
                proto.Add(OnnxProto.AttributeInts, value);
            }

            return proto.Add(OnnxProto.AttributeType, OnnxProto.AttributeTypeInts);
        }

        if (attribute.IsInt)
        {
            proto.Add(OnnxProto.AttributeInt, attribute.IntValue);
            return proto.Add(OnnxProto.AttributeType, OnnxProto.AttributeTypeInt);
        }

        proto.Add(OnnxProto.AttributeFloat, attribute.FloatValue);
        return proto.Add(OnnxProto.AttributeType, OnnxProto.AttributeTypeFloat);
    }

    private sealed record Node(string OpType, string Name, string[] Inputs, string Output, OnnxAttribute[] Attributes)
    {
        public OnnxProtoMessage ToProto()
        {
            var proto = new OnnxProtoMessage();
            foreach (string input in Inputs)
            {
                proto.Add(OnnxProto.NodeInput, input);
            }

            proto.Add(OnnxProto.NodeOutput, Output)
                .Add(OnnxProto.NodeName, Name)
                .Add(OnnxProto.NodeOpType, OpType);
            foreach (var attribute in Attributes)
            {
                proto.Add(OnnxProto.NodeAttribute, AttributeProto(attribute));
            }

            return proto;
        }
    }
}
