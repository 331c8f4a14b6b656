using BenchmarkDotNet.Attributes;
using Backprop.Numerics;

namespace Backprop.Benchmarks;

/// <summary>The matrix products of one training step of the 784-H-10 MLP, at the shapes the layers use.</summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private float[] _a = [];
    private float[] _b = [];
    private float[] _c = [];

    /// <summary>m, n, k and the transposition case, as "m×n×k:NT".</summary>
    [Params("64x128x784:NT", "128x784x64:TN", "64x10x128:NT", "10x128x64:TN", "64x128x10:NN", "16x32x784:NT", "32x784x16:TN")]
    public string Shape { get; set; } = "";

    [Params(1, 2)]
    public int Threads { get; set; }

    private int _m;
    private int _n;
    private int _k;
    private bool _ta;
    private bool _tb;

    [GlobalSetup]
    public void Setup()
    {
        var parts = Shape.Split(':');
        var dims = parts[0].Split('x').Select(int.Parse).ToArray();
        (_m, _n, _k) = (dims[0], dims[1], dims[2]);
        (_ta, _tb) = (parts[1][0] == 'T', parts[1][1] == 'T');
        var random = new DeterministicRandom(1);
        _a = Enumerable.Range(0, _m * _k).Select(_ => (float)random.NextDouble()).ToArray();
        _b = Enumerable.Range(0, _k * _n).Select(_ => (float)random.NextDouble()).ToArray();
        _c = new float[_m * _n];
    }

    [Benchmark]
    public void Multiply() => Gemm.Multiply<float>(_a, _ta ? _m : _k, _ta, _b, _tb ? _k : _n, _tb, _c, _n, _m, _n, _k, maxDegreeOfParallelism: Threads);
}

/// <summary>One training step (all four steps) of the Fashion-MNIST MLP on a synthetic batch.</summary>
[MemoryDiagnoser]
public class TrainingStepBenchmarks
{
    private Trainer<float> _trainer = null!;
    private float[] _x = [];
    private float[] _y = [];

    [Params(16, 64)]
    public int Batch { get; set; }

    [Params(32, 128)]
    public int Hidden { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var network = new Network<float>(784, 1, new Dense<float>(Hidden, Activations.ReLU), new Dense<float>(10, Activations.Softmax));
        _trainer = new Trainer<float>(network, Losses.CrossEntropy, new Sgd(0.01));
        var random = new DeterministicRandom(2);
        _x = Enumerable.Range(0, Batch * 784).Select(_ => (float)random.NextDouble()).ToArray();
        _y = new float[Batch * 10];
        for (int r = 0; r < Batch; r++)
        {
            _y[r * 10 + r % 10] = 1;
        }
    }

    [Benchmark]
    public double Step() => _trainer.TrainBatch(_x, _y);
}
