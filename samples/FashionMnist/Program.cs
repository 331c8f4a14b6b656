// Fashion-MNIST: 70,000 grey 28×28 images of clothing in 10 classes (Xiao, Rasul and Vollgraf, 2017, MIT licence),
// read from the standard gzipped IDX files. A 784-256-10 network (ReLU, softmax, cross-entropy, Adam) trains on the
// 60,000 training images in float32 on every core, reporting its throughput, and is measured on the 10,000 test images.
using System.Diagnostics;
using System.Globalization;
using Backprop;
using Backprop.Data;
using Backprop.Samples;
using FashionMnist;

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

string[] names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"];
string[] missing = names.Where(n => !File.Exists(Path.Combine(options.Data, n))).ToArray();
if (missing.Length > 0)
{
    Console.Error.WriteLine($"Fashion-MNIST was not found in '{options.Data}' (missing: {string.Join(", ", missing)}).");
    Console.Error.WriteLine("To get it: on Debian or Ubuntu, 'sudo apt-get install dataset-fashion-mnist' puts the four files in");
    Console.Error.WriteLine($"{Arguments.DefaultData}; or download them from https://github.com/zalandoresearch/fashion-mnist");
    Console.Error.WriteLine("(data/fashion) into a folder and pass it with --data DIR.");
    return 1;
}

var clock = Stopwatch.StartNew();
// With --stream the training images stay in their file: only the labels (60 KB) are read here, for the count.
// Otherwise they are read row-major (image after image, pixels / 255 in [0, 1]), which Fit trains on in place: no copy
// of the 188 MB, and the first batch starts at once.
float[]? trainRows = options.Stream ? null : IdxData.ReadImageRows<float>(Path.Combine(options.Data, names[0]));
int[] trainY = IdxData.ReadLabels(Path.Combine(options.Data, names[1]));
var testX = IdxData.ReadImages<float>(Path.Combine(options.Data, names[2]));
int[] testY = IdxData.ReadLabels(Path.Combine(options.Data, names[3]));
ReadOnlyMemory<float> trainX = trainRows;
if (trainRows is not null && options.Limit is int limit && limit < trainY.Length)
{
    trainX = trainRows.AsMemory(0, limit * testX.ColumnCount);
    trainY = trainY[..limit];
}

Console.WriteLine($"fashion-mnist: {trainY.Length} training and {testX.RowCount} test images of {testX.ColumnCount} pixels, {(trainRows is null ? "test set" : "all")} read in {clock.Elapsed.TotalSeconds:F1} s");

var network = options.Model == "cnn"
    // The images as 1 × 28 × 28, channels first; the dense layer after the last pooling reads its 32 × 7 × 7 output flat.
    ? new Network<float>(TensorShape.Image(1, 28, 28), seed: options.Seed,
        new Conv2D<float>(16, 3, 3, padding: Padding.Same, activation: Activations.ReLU, initializer: Initializers.HeUniform),
        new MaxPool2D<float>(2),
        new Conv2D<float>(32, 3, 3, padding: Padding.Same, activation: Activations.ReLU, initializer: Initializers.HeUniform),
        new MaxPool2D<float>(2),
        new Dense<float>(128, Activations.ReLU, Initializers.HeUniform),
        new Dense<float>(10, Activations.Softmax))
    : new Network<float>(inputs: testX.ColumnCount, seed: options.Seed,
        new Dense<float>(options.Hidden, Activations.ReLU, Initializers.HeUniform),
        new Dense<float>(10, Activations.Softmax));
network.MaxDegreeOfParallelism = Environment.ProcessorCount;
// The CNN trains as the PyTorch peer does (SGD 0.05, momentum 0.9); the MLP with Adam.
IOptimizer optimizer = options.Model == "cnn" ? new Sgd(0.05, momentum: 0.9) : new Adam(learningRate: 1e-3);
var trainer = new Trainer<float>(network, Losses.CrossEntropy, optimizer);
Console.WriteLine($"model: {network}, {network.ParameterCount} parameters, {trainer.Optimizer}, batch {options.Batch}, {network.MaxDegreeOfParallelism} threads");

int shuffleBuffer = options.Buffer ?? new FitOptions().ShuffleBufferSize;

// In memory, or (--stream) read from the files a few images at a time in every epoch and shuffled through a buffer of
// ShuffleBufferSize rows: with a buffer that holds all 60,000 rows both train to the very same weights.
var history = EpochReporter.Run(options.Epochs, reporter =>
{
    var fit = new FitOptions
    {
        Epochs = options.Epochs,
        BatchSize = options.Batch,
        Seed = options.Seed,
        ShuffleBufferSize = shuffleBuffer,
        Observers = [reporter],
        // The CNN's rate falls from 0.05 along a cosine over the run's epochs: the last epochs settle into a minimum
        // that a constant rate keeps jumping around (0.905 after 6 constant epochs; 0.917 after 10 annealed ones).
        LearningRateSchedule = options.Model == "cnn" ? new CosineAnnealingSchedule(options.Epochs, minLearningRate: 0.0005) : null,
    };
    return trainRows is null
        ? trainer.Fit(new IdxSampleSource<float>(Path.Combine(options.Data, names[0]), Path.Combine(options.Data, names[1]), classCount: 10), fit)
        : trainer.Fit(trainX, trainY, fit);
}, samples: trainY.Length);
if (options.Stream)
{
    Console.WriteLine($"streamed from the IDX files through a shuffle buffer of {shuffleBuffer} rows");
}

double seconds = history.Epochs.Sum(e => e.Duration.TotalSeconds);
Console.WriteLine($"trained: {history}; {trainY.Length * (double)history.EpochsCompleted / seconds:F0} samples/s over {seconds:F1} s");

var confusion = new ConfusionMatrix(testY, network.PredictClasses(testX), classCount: 10);
string[] classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];
Console.WriteLine();
Console.WriteLine(confusion);
Console.WriteLine("classes: " + string.Join(", ", classes.Select((name, c) => $"{c} {name}")));
Console.WriteLine("recall by class: " + string.Join(", ", classes.Select((name, c) => $"{name} {confusion.Recall(c):F3}")));
Console.WriteLine();
string plot = TrainingPlot.Save(history, options.Output, $"fashion-mnist-{options.Model}-training.png", $"Fashion-MNIST: {(options.Model == "cnn" ? "convolutional network" : $"784-{options.Hidden}-10 MLP")}");
Console.WriteLine($"training curves: {plot}");
Console.WriteLine($"test accuracy: {confusion.Accuracy:F4}");
return 0;
