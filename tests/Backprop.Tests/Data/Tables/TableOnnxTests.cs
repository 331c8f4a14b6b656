using System.Text;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Backprop.Tests.Data.Tables;

public class TableOnnxTests
{
    private const string Text = "a,b,c,label\n1,200,-3,x\n2,250,-1,y\n3,180,0.5,x\n4,300,2,z\n";

    [Fact]
    public void The_export_scales_numeric_columns_with_sub_and_div_as_the_predictor_does()
    {
        var options = new TableOptions { Label = "label" };
        var table = CsvTable.Read(new MemoryStream(Encoding.UTF8.GetBytes(Text)), "t.csv", options);
        var pipeline = TablePipeline.Fit(table, options: options);
        var network = new Network<float>(3, seed: 2, new Dense<float>(5, Activations.Tanh), new Dense<float>(3, Activations.Softmax));
        var predictor = new TablePredictor<float>(network, pipeline);

        using var session = new InferenceSession(predictor.ToOnnxBytes());
        float[] raw = [2.5f, 220f, 1.25f];
        var input = new DenseTensor<float>(raw, [1, 3]);
        using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
        var onnx = results.First().AsEnumerable<float>().ToArray();
        var expected = predictor.Predict(["2.5", "220", "1.25"]).Values;
        for (int j = 0; j < 3; j++)
        {
            onnx[j].Should().BeApproximately((float)expected[j], 1e-6f);
        }
    }

    [Fact]
    public void Text_categories_and_indicators_are_refused_naming_the_column()
    {
        var options = new TableOptions { Label = "label", Columns = [new ColumnOptions { Column = "a", Kind = ColumnKind.Categorical }] };
        var table = CsvTable.Read(new MemoryStream(Encoding.UTF8.GetBytes(Text)), "t.csv", options);
        var pipeline = TablePipeline.Fit(table, options: options);
        var predictor = new TablePredictor<float>(new Network<float>(pipeline.FeatureCount, new Dense<float>(3, Activations.Softmax)), pipeline);
        var export = () => predictor.ToOnnxBytes();
        export.Should().Throw<NotSupportedException>().WithMessage("The column \"a\" holds text categories, which the ONNX export cannot encode*");
    }
}
