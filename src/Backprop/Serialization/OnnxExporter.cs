using System.Numerics;

namespace Backprop;

/// <summary>
/// Writes a network as an ONNX model (https://onnx.ai), for inference in ONNX Runtime and other ONNX engines:
/// <c>network.ExportOnnx("model.onnx")</c>.
/// </summary>
/// <remarks>
/// <para>The model imports the default ONNX operator set at version <see cref="OpsetVersion"/> (IR version
/// <see cref="IrVersion"/>). Its one input, <see cref="InputName"/>, and one output, <see cref="OutputName"/>, are float32
/// tensors of shape [N, <see cref="Network{T}.InputSize"/>] and [N, <see cref="Network{T}.OutputSize"/>], N a symbolic
/// batch dimension (<see cref="BatchDimension"/>): rows are samples, as in <see cref="Network{T}.Predict(MathNet.Numerics.LinearAlgebra.Matrix{T})"/>.</para>
/// <para>Every tensor is float32: a <c>Network&lt;double&gt;</c>'s weights and biases are rounded to the nearest float.</para>
/// <para>Layers: <see cref="Dense{T}"/> becomes a Gemm (transB = 1, with the weights stored units × inputs and the biases as C)
/// followed by its activation's operators; <see cref="Dropout{T}"/>, the identity at inference, becomes nothing.
/// Activations: identity → no node; sigmoid → Sigmoid; tanh → Tanh; relu → Relu; leaky_relu → LeakyRelu(alpha);
/// elu → Elu(alpha); softplus → Softplus; gelu (exact) → 0.5·z·(1 + Erf(z / √2)) from Div, Erf, Add and Mul, since
/// opset 17 has no Gelu operator; silu → Mul(z, Sigmoid(z)); softmax → Softmax(axis = −1). Any other layer or activation
/// (one a user wrote) has no translation and fails with <see cref="NotSupportedException"/> naming the layer.</para>
/// <para>The encoding is the protobuf binary format of onnx.proto, written by the library itself (no protobuf
/// dependency) with the tensors' data in <c>raw_data</c>, little-endian; the whole model must stay under protobuf's
/// 2 GiB message limit.</para>
/// <para>Thread safety: stateless: exports may run on any number of threads at once, and alongside predictions of the
/// same network (both only read the weights), but not while the network is trained or its weights change. Every export
/// to a path writes its own temporary file and renames it over the target.</para>
/// </remarks>
public static class OnnxExporter
{
    /// <summary>The version of the default ONNX operator set ("ai.onnx") the model imports.</summary>
    public const int OpsetVersion = 17;

    /// <summary>The ONNX IR version the model declares: 8, the IR version of operator set 17.</summary>
    public const long IrVersion = 8;

    /// <summary>The name of the model's input tensor.</summary>
    public const string InputName = "input";

    /// <summary>The name of the model's output tensor.</summary>
    public const string OutputName = "output";

    /// <summary>The name of the symbolic batch dimension of the input and output shapes.</summary>
    public const string BatchDimension = "N";

    /// <summary>The producer name written into the model.</summary>
    public const string ProducerName = "Backprop";

    private const long MaxModelBytes = int.MaxValue;

    /// <summary>Writes the network as an ONNX model file, atomically: to a temporary file in the same folder, then
    /// moved over <paramref name="path"/>, so that a reader never sees a half-written model.</summary>
    /// <typeparam name="T">The network's element type; the model is float32 either way.</typeparam>
    /// <param name="network">The network to export.</param>
    /// <param name="path">The file to create or replace, conventionally with the extension ".onnx".</param>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> or <paramref name="path"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty or white space, or a weight or bias of
    /// <paramref name="network"/> is not finite or is outside the float32 range.</exception>
    /// <exception cref="NotSupportedException">A layer or activation of <paramref name="network"/> has no ONNX
    /// translation (the message names the layer's index), or the model would exceed 2 GiB.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    /// <exception cref="UnauthorizedAccessException">The file or its folder may not be written.</exception>
    /// <exception cref="IOException">Writing or moving the file failed.</exception>
    public static void ExportOnnx<T>(this Network<T> network, string path)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        OnnxProtoMessage model = BuildChecked(network);

        string fullPath = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException($"path must name a file, but '{path}' is a root folder.", nameof(path));
        string temporary = Path.Combine(folder, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                model.WriteTo(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Writes the network as an ONNX model to a stream, from its current position; the stream is left open.</summary>
    /// <typeparam name="T">The network's element type; the model is float32 either way.</typeparam>
    /// <param name="network">The network to export.</param>
    /// <param name="stream">A writable stream.</param>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> or <paramref name="stream"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="stream"/> is not writable, or a weight or bias of
    /// <paramref name="network"/> is not finite or is outside the float32 range.</exception>
    /// <exception cref="NotSupportedException">A layer or activation of <paramref name="network"/> has no ONNX
    /// translation (the message names the layer's index), or the model would exceed 2 GiB.</exception>
    /// <exception cref="IOException">Writing to the stream failed.</exception>
    public static void ExportOnnx<T>(this Network<T> network, Stream stream)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanWrite)
        {
            throw new ArgumentException($"stream must be writable, but {stream.GetType().Name}.CanWrite is false.", nameof(stream));
        }

        BuildChecked(network).WriteTo(stream);
    }

    /// <summary>Encodes the network as an ONNX model in memory.</summary>
    /// <typeparam name="T">The network's element type; the model is float32 either way.</typeparam>
    /// <param name="network">The network to export.</param>
    /// <returns>The model's bytes, as <see cref="ExportOnnx{T}(Network{T}, Stream)"/> writes them.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="network"/> is null.</exception>
    /// <exception cref="ArgumentException">A weight or bias of <paramref name="network"/> is not finite or is outside the float32 range.</exception>
    /// <exception cref="NotSupportedException">A layer or activation of <paramref name="network"/> has no ONNX
    /// translation (the message names the layer's index), or the model would exceed 2 GiB.</exception>
    public static byte[] ToOnnxBytes<T>(this Network<T> network)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(network);
        OnnxProtoMessage model = BuildChecked(network);
        using var stream = new MemoryStream(checked((int)model.Size));
        model.WriteTo(stream);
        return stream.ToArray();
    }

    private static OnnxProtoMessage BuildChecked<T>(Network<T> network)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        OnnxProtoMessage model = OnnxGraphBuilder.Build(network);
        if (model.Size > MaxModelBytes)
        {
            throw new NotSupportedException(
                $"The ONNX model of {network} would be {model.Size} bytes, over protobuf's 2 GiB limit; the exporter does not write external data.");
        }

        return model;
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the original failure is what the caller needs to see.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
