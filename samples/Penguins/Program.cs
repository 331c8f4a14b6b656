// Palmer penguins: from a raw CSV file to a served prediction. The table has a header, a text label (species), a text
// column (island), four measurements with two empty rows, and a sex column that is empty in 10 rows and "." in one.
// Read it with column kinds inferred and missing values imputed, split it stratified by species, fit the preprocessing
// (median imputation, standardising, one-hot islands and sexes) on the training rows only, train a small network,
// save network and preprocessing in one model file, load it into a fresh predictor and predict a raw row given as text.
using System.Globalization;
using Backprop;
using Backprop.Data;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;

int epochs = 30, seed = 7;
string output = Path.GetTempPath();
for (int i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{args[i]} needs a value.");
    try
    {
        switch (args[i])
        {
            case "--epochs": epochs = int.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--seed": seed = int.Parse(Value(), CultureInfo.InvariantCulture); break;
            case "--output": output = Value(); break;
            default: throw new FormatException($"unknown argument {args[i]}.");
        }
    }
    catch (FormatException e)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        Console.Error.WriteLine("usage: Penguins [--epochs N] [--seed N] [--output FOLDER]");
        return 2;
    }
}

var options = new TableOptions
{
    Label = "species",
    MissingValues = ["NA", "?", "."],            // "." marks the one unknown sex
    Missing = MissingValuePolicy.Median,          // the measurements
    Columns = [new ColumnOptions { Column = "sex", Missing = MissingValuePolicy.MostFrequent, AddMissingIndicator = true }],
};
var table = CsvTable.Read(Path.Combine(AppContext.BaseDirectory, "penguins.csv"), options);
Console.WriteLine($"penguins: {table.RowCount} rows; features {string.Join(", ", table.Features.Select(f => $"{f.Name} ({f.Kind}{(f.MissingCount > 0 ? $", {f.MissingCount} missing" : "")})"))}");

var (train, test) = table.Split(testFraction: 0.25, seed: seed);
var pipeline = TablePipeline.Fit(train, NumericScaling.Standardize, options);   // training rows only
pipeline.Metadata["data"] = "Palmer penguins (Gorman, Williams and Fraser 2014), CC0";
Console.WriteLine($"{train.RowCount} training and {test.RowCount} test rows; {pipeline.FeatureCount} features: {string.Join(", ", pipeline.FeatureNames)}");

var network = new Network<float>(pipeline.FeatureCount, seed,
    new Dense<float>(16, Activations.ReLU),
    new Dense<float>(pipeline.ClassNames.Count, Activations.Softmax));
var trainer = new Trainer<float>(network, Losses.CrossEntropy, new Adam(0.01));
var history = trainer.Fit(pipeline.Transform<float>(train), pipeline.Labels(train),
    new FitOptions { Epochs = epochs, BatchSize = 16, Seed = seed, ClassWeights = ClassWeights.Balanced });
Console.WriteLine($"trained {history.Loss.Count} epochs with balanced class weights: loss {history.Loss[0]:0.0000} → {history.Loss[^1]:0.0000}");

var result = trainer.EvaluateMetrics(pipeline.Transform<float>(test), pipeline.Labels(test));
Console.WriteLine(result.ConfusionMatrix!.WithClassNames(pipeline.ClassNames));

Directory.CreateDirectory(output);
string path = Path.Combine(output, "penguins.bpnn");
new TablePredictor<float>(network, pipeline).Save(path);
Console.WriteLine($"model and preprocessing saved to {path} ({new FileInfo(path).Length} bytes)");

var predictor = TablePredictor<float>.Load(path);
const string Row = "Biscoe,48.6,16,230,5800,male";   // island, the four measurements, sex: a raw row as text
var prediction = predictor.Predict(Row);
Console.WriteLine($"\"{Row}\" → {prediction.ClassName} ({string.Join(", ", predictor.Pipeline.ClassNames.Select((c, i) => $"{c} {prediction.Probabilities[i]:0.000}"))})");

Console.WriteLine($"test accuracy: {result.Accuracy:0.0000}");
return 0;
