// The main job: a small multi-layer perceptron learns the UCI handwritten digits (8×8 images, 10 classes).
// Load the embedded CSV, split it stratified by class, scale the pixels to [0, 1] with statistics of the training part,
// train 64-128-10 (ReLU with dropout, softmax, cross-entropy, SGD with momentum) with a live progress bar, then report
// the test set's confusion matrix, draw the training curves into a PNG, save the model, and end with the test accuracy.
using System.Diagnostics;
using System.Globalization;
using Backprop;
using Backprop.Data;
using Backprop.Samples;
using Digits;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;

Arguments options;
try
{
    options = Arguments.Parse(args);
}
catch (FormatException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine(Arguments.Usage);
    return 2;
}

if (options.Help)
{
    Console.WriteLine(Arguments.Usage);
    return 0;
}

var clock = Stopwatch.StartNew();

// The data: 1,797 images of 64 pixel counts (0..16), then the label. CC BY 4.0, Alpaydin and Kaynak (1998), UCI.
ClassificationData<float> data;
using (var resource = typeof(Arguments).Assembly.GetManifestResourceStream("digits.csv.gz")
    ?? throw new InvalidOperationException("The embedded resource digits.csv.gz is missing from the sample."))
{
    data = Csv.ReadClassification<float>(resource, "digits.csv.gz");
}

var (train, test) = DataSplit.Stratified(data, testFraction: 0.2, seed: options.Seed);
// Min-max scaling maps each pixel's training range to [0, 1]. (StandardScaler works too, but it blows rare edge pixels
// up to large values: seen once as 1 in a column of zeros, a pixel becomes ~30 standard deviations.)
var scaler = new MinMaxScaler();
var trainX = scaler.FitTransform(train.Features);   // statistics of the training part only
var testX = scaler.Transform(test.Features);
Console.WriteLine($"digits: {data.Count} images of {data.Features.ColumnCount} pixels, {data.ClassCount} classes; " +
    $"{train.Count} for training (10% of them for validation), {test.Count} for testing");

var network = new Network<float>(inputs: 64, seed: options.Seed,
    new Dense<float>(128, Activations.ReLU, Initializers.HeUniform),
    new Dropout<float>(rate: 0.3, seed: options.Seed),
    new Dense<float>(10, Activations.Softmax));
var trainer = new Trainer<float>(network, Losses.CrossEntropy, new Sgd(learningRate: 0.05, momentum: 0.9));
Console.WriteLine($"model: {network}, {network.ParameterCount} parameters, {trainer.Optimizer}");

var history = EpochReporter.Run(options.Epochs, reporter => trainer.Fit(trainX, train.Labels, new FitOptions
{
    Epochs = options.Epochs,
    BatchSize = 32,
    Seed = options.Seed,
    ValidationFraction = 0.1,
    Observers = [reporter],
}));
Console.WriteLine($"trained: {history} in {clock.Elapsed.TotalSeconds:F1} s");

int[] predicted = network.PredictClasses(testX);
var confusion = new ConfusionMatrix(test.Labels, predicted, classCount: 10);
Console.WriteLine();
Console.WriteLine(confusion);
Console.WriteLine();

string plot = TrainingPlot.Save(history, options.Output, "digits-training.png", "Digits: 64-128-10 MLP");
Console.WriteLine($"training curves: {plot}");
string model = Path.GetFullPath(Path.Combine(options.Output, "digits.bpnn"));
network.Save(model);   // atomic; Network<float>.Load(model) predicts bit-identically (inputs scaled as above)
Console.WriteLine($"model: {model}");
Console.WriteLine($"test accuracy: {confusion.Accuracy:F4}");
return 0;
