// Regression on the diabetes data (Efron et al., 2004): a small network against ordinary least squares.
// Split 80/20 at random with a seed, standardise features and target on the training part, train 10-32-1 (tanh,
// identity output, mean squared error, Adam) with early stopping on a validation tenth, fit the linear baseline by QR,
// and compare both on the held-out patients in the target's own units.
using System.Globalization;
using Backprop;
using Backprop.Data;
using MathNet.Numerics.LinearAlgebra;
using Regression;

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

RegressionData<double> data;
using (var resource = typeof(Arguments).Assembly.GetManifestResourceStream("diabetes.csv")
    ?? throw new InvalidOperationException("The embedded resource diabetes.csv is missing from the sample."))
{
    data = Csv.ReadRegression<double>(resource, "diabetes.csv");   // 10 feature columns, the target last
}

var (train, test) = DataSplit.Shuffled(data, testFraction: 0.2, seed: options.Seed);
Console.WriteLine($"diabetes: {data.Count} patients, {data.Features.ColumnCount} features; {train.Count} for training, {test.Count} for testing");

// Both scalers learn from the training part only. Scaling the target too keeps the initial outputs, the loss and the
// gradients near 1 whatever its units; predictions are mapped back with InverseTransform.
var featureScaler = new StandardScaler();
var targetScaler = new StandardScaler();
var trainX = featureScaler.FitTransform(train.Features);
var trainY = targetScaler.FitTransform(train.Targets);
var testX = featureScaler.Transform(test.Features);

// The baseline: ordinary least squares with an intercept, y ≈ [1 X]·β, solved by QR decomposition.
var design = Matrix<double>.Build.Dense(train.Count, 1, 1.0).Append(train.Features);
var beta = design.QR().Solve(train.Targets);
var linear = Matrix<double>.Build.Dense(test.Count, 1, 1.0).Append(test.Features) * beta;

var network = new Network<double>(inputs: trainX.ColumnCount, seed: options.Seed,
    new Dense<double>(32, Activations.Tanh),
    new Dense<double>(1, Activations.Identity));
var trainer = new Trainer<double>(network, Losses.MeanSquaredError, new Adam(learningRate: 3e-4));
var history = trainer.Fit(trainX, trainY, new FitOptions
{
    Epochs = options.Epochs,
    BatchSize = 16,
    Seed = options.Seed,
    ValidationFraction = 0.1,
    EarlyStopping = new EarlyStopping { Patience = 60 },
});
Console.WriteLine($"model: {network}, {network.ParameterCount} parameters; trained {history}");

var predicted = targetScaler.InverseTransform(network.Predict(testX));
Console.WriteLine($"linear baseline (least squares): R² {Metrics.RSquared(test.Targets, linear):F4}, MAE {Metrics.MeanAbsoluteError(test.Targets, linear):F2}");
Console.WriteLine($"network 10-32-1:                 R² {Metrics.RSquared(test.Targets, predicted):F4}, MAE {Metrics.MeanAbsoluteError(test.Targets, predicted):F2}");
Console.WriteLine($"test R²: {Metrics.RSquared(test.Targets, predicted):F4}");
return 0;
