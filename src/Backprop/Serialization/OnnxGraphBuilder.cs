using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;

namespace Backprop;

/// <summary>
/// Translates a network, layer by layer, into an ONNX ModelProto (<see cref="OnnxProtoMessage"/>): Dense → Gemm plus
/// its activation's operators, Dropout → nothing. See <see cref="OnnxExporter"/> for the mapping.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private const string GeluSqrt2 = "gelu.sqrt2";
    private const string GeluOne = "gelu.one";
    private const string GeluHalf = "gelu.half";

    private readonly List<Node> _nodes = [];
    private readonly List<OnnxProtoMessage> _initializers = [];
    private readonly HashSet<string> _initializerNames = [];

    private OnnxGraphBuilder()
    {
    }

    /// <summary>Builds the model of a network; throws <see cref="NotSupportedException"/> for a layer or activation it cannot express.</summary>
    public static OnnxProtoMessage Build<T>(Network<T> network)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var builder = new OnnxGraphBuilder();
        string current = OnnxExporter.InputName;
        for (int l = 0; l < network.Layers.Count; l++)
        {
            current = builder.AddLayer(network.Layers[l], l, current);
        }

        return builder.BuildModel(network.ToString(), network.InputSize, network.OutputSize, current);
    }

    private string AddLayer<T>(Layer<T> layer, int index, string input)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        switch (layer)
        {
            case Dropout<T>:
                // Inverted dropout is the identity at inference.
                return input;
            case Dense<T> dense:
                string prefix = string.Create(CultureInfo.InvariantCulture, $"layer{index}");
                // The weights' column-major array (inputs × units) is the units × inputs matrix row-major: Gemm's B with transB = 1.
                string weights = AddTensor($"{prefix}.weights", [dense.Units, dense.InputSize], dense.Parameters[0].ValueArray, index, "weights");
                string biases = AddTensor($"{prefix}.biases", [dense.Units], dense.Parameters[1].ValueArray, index, "biases");
                string z = $"{prefix}.z";
                // Gemm: Y = alpha·A'·B' + beta·C with alpha = beta = 1 (the defaults), transA = 0, transB = 1: Z = X·Wᵀstored + b.
                AddNode("Gemm", $"{prefix}.gemm", [input, weights, biases], z, Attribute.Int("transB", 1));
                return AddActivation(dense.Activation, index, layer, prefix, z);
            default:
                throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                    $"Layer {index} ({layer}, a {layer.GetType().FullName}) has no ONNX translation: the exporter supports Dense and Dropout layers only."));
        }
    }

    private string AddActivation<T>(IActivation activation, int index, Layer<T> layer, string prefix, string z)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        string a = $"{prefix}.a";
        switch (activation)
        {
            case Identity:
                return z;
            case Sigmoid:
                AddNode("Sigmoid", $"{prefix}.sigmoid", [z], a);
                return a;
            case Tanh:
                AddNode("Tanh", $"{prefix}.tanh", [z], a);
                return a;
            case ReLU:
                AddNode("Relu", $"{prefix}.relu", [z], a);
                return a;
            case LeakyReLU leaky:
                AddNode("LeakyRelu", $"{prefix}.leaky_relu", [z], a, Attribute.Float("alpha", ToFloatAttribute(leaky.Alpha, index, layer, "alpha")));
                return a;
            case Elu elu:
                AddNode("Elu", $"{prefix}.elu", [z], a, Attribute.Float("alpha", ToFloatAttribute(elu.Alpha, index, layer, "alpha")));
                return a;
            case Softplus:
                AddNode("Softplus", $"{prefix}.softplus", [z], a);
                return a;
            case Gelu:
                // Exact GELU for opset 17, which has no Gelu operator: 0.5·z·(1 + erf(z / √2)), the pattern that
                // ONNX Runtime fuses into its Gelu kernel.
                AddScalar(GeluSqrt2, MathF.Sqrt(2f));
                AddScalar(GeluOne, 1f);
                AddScalar(GeluHalf, 0.5f);
                AddNode("Div", $"{prefix}.gelu.div", [z, GeluSqrt2], $"{prefix}.gelu.scaled");
                AddNode("Erf", $"{prefix}.gelu.erf", [$"{prefix}.gelu.scaled"], $"{prefix}.gelu.erf");
                AddNode("Add", $"{prefix}.gelu.add", [$"{prefix}.gelu.erf", GeluOne], $"{prefix}.gelu.erf_plus_one");
                AddNode("Mul", $"{prefix}.gelu.mul", [z, $"{prefix}.gelu.erf_plus_one"], $"{prefix}.gelu.product");
                AddNode("Mul", $"{prefix}.gelu.half", [$"{prefix}.gelu.product", GeluHalf], a);
                return a;
            case Silu:
                // SiLU: z·σ(z).
                AddNode("Sigmoid", $"{prefix}.silu.sigmoid", [z], $"{prefix}.silu.sigmoid");
                AddNode("Mul", $"{prefix}.silu.mul", [z, $"{prefix}.silu.sigmoid"], a);
                return a;
            case Softmax:
                // Opset 13+ Softmax normalises along one axis: the last, the layer's units.
                AddNode("Softmax", $"{prefix}.softmax", [z], a, Attribute.Int("axis", -1));
                return a;
            default:
                throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                    $"Layer {index} ({layer}) has activation '{activation.Name}' ({activation.GetType().FullName}), which has no ONNX translation. Supported activations: identity, sigmoid, tanh, relu, leaky_relu, elu, softplus, gelu, silu, softmax."));
        }
    }

    private static float ToFloatAttribute(double value, int index, object layer, string name)
    {
        float single = (float)value;
        if (!float.IsFinite(single))
        {
            throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture,
                $"Layer {index} ({layer}) has activation {name} {value}, which is outside the float32 range ONNX attributes use."));
        }

        return single;
    }

    private void AddNode(string opType, string name, string[] inputs, string output, params Attribute[] attributes) =>
        _nodes.Add(new Node(opType, name, inputs, output, attributes));

    private void AddScalar(string name, float value)
    {
        if (_initializerNames.Add(name))
        {
            var data = new byte[sizeof(float)];
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(), value);
            // No dims: a scalar (rank 0), broadcast against the activations.
            _initializers.Add(new OnnxProtoMessage()
                .Add(OnnxProto.TensorDataType, OnnxProto.DataTypeFloat)
                .Add(OnnxProto.TensorName, name)
                .Add(OnnxProto.TensorRawData, data));
        }
    }

    private string AddTensor<T>(string name, int[] dims, T[] values, int layerIndex, string what)
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
        _initializers.Add(tensor);
        _initializerNames.Add(name);
        return name;
    }

    private OnnxProtoMessage BuildModel(string description, int inputs, int outputs, string last)
    {
        if (_nodes.Count == 0 || last == OnnxExporter.InputName)
        {
            // Only dropout: the graph still needs a node from input to output.
            AddNode("Identity", "identity", [last], OnnxExporter.OutputName);
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

    private readonly record struct Attribute(string Name, int Type, long IntValue, float FloatValue)
    {
        public static Attribute Int(string name, long value) => new(name, OnnxProto.AttributeTypeInt, value, 0);

        public static Attribute Float(string name, float value) => new(name, OnnxProto.AttributeTypeFloat, 0, value);

        public OnnxProtoMessage ToProto()
        {
            var proto = new OnnxProtoMessage().Add(OnnxProto.AttributeName, Name);
            if (Type == OnnxProto.AttributeTypeInt)
            {
                proto.Add(OnnxProto.AttributeInt, IntValue);
            }
            else
            {
                proto.Add(OnnxProto.AttributeFloat, FloatValue);
            }

            return proto.Add(OnnxProto.AttributeType, Type);
        }
    }

    private sealed record Node(string OpType, string Name, string[] Inputs, string Output, Attribute[] Attributes)
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
                proto.Add(OnnxProto.NodeAttribute, attribute.ToProto());
            }

            return proto;
        }
    }
}
