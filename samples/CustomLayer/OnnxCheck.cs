using Backprop;
using MathNet.Numerics.LinearAlgebra;
using Microsoft.ML.OnnxRuntime;

namespace CustomLayer;

/// <summary>Exports a network to ONNX and runs the file in ONNX Runtime.</summary>
internal static class OnnxCheck
{
    /// <summary>The largest absolute difference between ONNX Runtime's outputs for the exported file and
    /// <see cref="Network{T}.Predict(Matrix{T})"/>.</summary>
    public static double MaxDifference(Network<double> network, Matrix<double> x, string path)
    {
        network.ExportOnnx(path);
        float[] input = x.ToRowMajorArray().Select(v => (float)v).ToArray();
        using var session = new InferenceSession(path);
        using var tensor = OrtValue.CreateTensorValueFromMemory(input, [x.RowCount, x.ColumnCount]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [OnnxExporter.InputName], [tensor], [OnnxExporter.OutputName]);
        ReadOnlySpan<float> actual = results[0].GetTensorDataAsSpan<float>();
        var expected = network.Predict(x);
        double worst = 0;
        for (int r = 0; r < x.RowCount; r++)
        {
            for (int c = 0; c < network.OutputSize; c++)
            {
                worst = Math.Max(worst, Math.Abs(actual[r * network.OutputSize + c] - expected[r, c]));
            }
        }

        return worst;
    }
}
