// Data-parallel training of the digits MLP over MPI, checked against one process.
//
//   mpiexec -n 3 dotnet samples/Distributed/bin/Release/net10.0/Distributed.dll
//
// Every process builds the same network and reads the same data; each global batch is cut into gradient shards that
// the processes compute in parts and add in a fixed order, so the weights are bit-identical to one process's. Rank 0
// prints, and at the end trains the same network once more on its own (Communicator.SingleProcess, the same shards)
// and compares. The options after the first block are for the distributed tests: a checkpoint, a resume, a process
// that fails, a process that builds another network.
using System.Diagnostics;
using System.Globalization;
using Backprop;
using Backprop.Data;
using Backprop.Distributed;

var options = Options.Parse(args);
if (options is null)
{
    return 2;
}

ClassificationData<float> data;
using (var resource = typeof(Options).Assembly.GetManifestResourceStream("digits.csv.gz")
    ?? throw new InvalidOperationException("The embedded resource digits.csv.gz is missing from the sample."))
{
    data = Csv.ReadClassification<float>(resource, "digits.csv.gz");
}

var (train, test) = DataSplit.Stratified(data, testFraction: 0.2, seed: 1);
var scaler = new MinMaxScaler();
var trainX = scaler.FitTransform(train.Features);
var testX = scaler.Transform(test.Features);

var world = Mpi.World;
bool root = world.Rank == 0;
int hidden = world.Rank == options.MismatchRank ? options.Hidden + 1 : options.Hidden;
var fitOptions = new FitOptions { Epochs = options.Epochs, BatchSize = options.Batch, Seed = options.Seed };

try
{
    var trainer = NewTrainer(hidden, options.Resume);
    var distributed = new DistributedTrainer<float>(trainer, world, options.Shards);
    if (root)
    {
        Console.WriteLine($"distributed: {world.Size} processes, {options.Shards} gradient shards, global batch {options.Batch}; model {trainer.Network}, {trainer.Network.ParameterCount} parameters" +
            (options.Resume is null ? "" : $"; resumed from {options.Resume} after {trainer.EpochsCompleted} epochs"));
    }

    List<ITrainingObserver> observers = [];
    if (options.Checkpoint is not null)
    {
        observers.Add(distributed.CheckpointEveryEpoch(options.Checkpoint));
    }

    if (world.Rank == options.FailRank)
    {
        observers.Add(new FailAt(options.FailEpoch, options.FailBatch, world.Rank));
    }

    var clock = Stopwatch.StartNew();
    var history = distributed.Fit(trainX, train.Labels, new FitOptions { Epochs = options.Epochs, BatchSize = options.Batch, Seed = options.Seed, Observers = observers });
    double seconds = clock.Elapsed.TotalSeconds;

    // Every rank's weights, gathered as digests: all must be rank 0's.
    byte[] digest = Convert.FromHexString(distributed.WeightDigest());
    var all = new byte[digest.Length * world.Size];
    world.AllGather<byte>(digest, all);
    bool ranksAgree = Enumerable.Range(0, world.Size).All(r => all.AsSpan(r * digest.Length, digest.Length).SequenceEqual(digest));
    if (root)
    {
        foreach (var epoch in history.Epochs)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch.Epoch}: loss {epoch.Loss:F6}, accuracy {epoch.Accuracy:F4}"));
        }

        long samples = (long)train.Count * history.Epochs.Count;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"throughput: {samples / seconds:F0} samples/s ({samples} samples in {seconds:F2} s on {world.Size} processes; rank 0 communicating {distributed.CommunicationTime.TotalSeconds:F2} s)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"test accuracy: {trainer.EvaluateMetrics(testX, test.Labels).Accuracy:F4}"));
        Console.WriteLine($"weights sha256: {distributed.WeightDigest()}");
        Console.WriteLine($"all {world.Size} ranks hold the same weights: {ranksAgree}");
        bool identical = ranksAgree;
        if (options.Compare)
        {
            // One process: the same network, data, seed, shards and global batch, without MPI.
            var alone = new DistributedTrainer<float>(NewTrainer(options.Hidden, options.Resume), Communicator.SingleProcess, options.Shards);
            alone.Fit(trainX, train.Labels, fitOptions);
            Console.WriteLine($"one process: weights sha256: {alone.WeightDigest()}");
            identical &= alone.WeightDigest() == distributed.WeightDigest();
        }

        Console.WriteLine($"distributed: {world.Size} processes, weights identical to one process: {identical}");
    }

    return 0;
}
catch (DistributedMismatchException e)
{
    // Every process throws it; rank 0 reports and every process ends normally.
    if (root)
    {
        Console.Error.WriteLine(e.Message);
    }

    return 3;
}

Trainer<float> NewTrainer(int units, string? checkpoint)
{
    if (checkpoint is not null)
    {
        return Trainer<float>.LoadCheckpoint(checkpoint);
    }

    var network = new Network<float>(inputs: 64, seed: options.Seed,
        new Dense<float>(units, Activations.ReLU, Initializers.HeUniform),
        new Dropout<float>(rate: 0.2, seed: options.Seed),
        new Dense<float>(10, Activations.Softmax));
    return new Trainer<float>(network, Losses.CrossEntropy, new Sgd(learningRate: 0.05, momentum: 0.9));
}

/// <summary>Throws on one process at one batch: the failure the tests expect to end every process.</summary>
internal sealed class FailAt(int epoch, int batch, int rank) : ITrainingObserver
{
    public void OnBatchEnd(int epoch1, int batch1, double loss)
    {
        if (epoch1 == epoch && batch1 == batch)
        {
            throw new InvalidOperationException($"rank {rank} fails on purpose at epoch {epoch}, batch {batch}.");
        }
    }
}

internal sealed record Options(int Epochs, int Batch, int Shards, int Hidden, int Seed, bool Compare, string? Checkpoint, string? Resume, int FailRank, int FailEpoch, int FailBatch, int MismatchRank)
{
    private const string Usage = "usage: mpiexec -n N dotnet Distributed.dll [--epochs 3] [--batch 60] [--shards 12] [--hidden 64] [--seed 1] [--no-compare] [--checkpoint FILE] [--resume FILE] [--fail-rank R [--fail-epoch 1] [--fail-batch 3]] [--mismatch-rank R]";

    public static Options? Parse(string[] args)
    {
        var o = new Options(3, 60, DistributedTrainer<float>.DefaultGradientShards, 64, 1, true, null, null, -1, 1, 3, -1);
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value");
            int Number()
            {
                string text = Value();
                return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 0 ? n : throw new ArgumentException($"{name} needs a whole number, but got '{text}'");
            }

            try
            {
                o = name switch
                {
                    "--epochs" => o with { Epochs = Number() },
                    "--batch" => o with { Batch = Number() },
                    "--shards" => o with { Shards = Number() },
                    "--hidden" => o with { Hidden = Number() },
                    "--seed" => o with { Seed = Number() },
                    "--no-compare" => o with { Compare = false },
                    "--checkpoint" => o with { Checkpoint = Value() },
                    "--resume" => o with { Resume = Value() },
                    "--fail-rank" => o with { FailRank = Number() },
                    "--fail-epoch" => o with { FailEpoch = Number() },
                    "--fail-batch" => o with { FailBatch = Number() },
                    "--mismatch-rank" => o with { MismatchRank = Number() },
                    _ => throw new ArgumentException($"unknown argument '{name}'"),
                };
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine(e.Message);
                Console.Error.WriteLine(Usage);
                return null;
            }
        }

        return o;
    }
}
