using System.Globalization;
using BenchmarkDotNet.Running;
using Backprop.Benchmarks;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args.Length > 0 && args[0] == "train")
{
    return TrainBenchmark.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "load")
{
    return TrainBenchmark.Load(args[1..]);
}

if (args.Length > 0 && args[0] == "train-mlp")
{
    return TrainMlpBenchmark.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "train-cnn")
{
    return TrainCnnBenchmark.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "step")
{
    return StepBenchmark.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "conv")
{
    return ConvBenchmark.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "activations")
{
    return ActivationBenchmark.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "gemm")
{
    return GemmShapes.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "predict")
{
    return PredictBenchmark.Run(args[1..]);
}

if (args.Length > 0 && args[0] == "micro")
{
    Console.WriteLine($"FMA peak per core (register-only loop): float {GemmShapes.FmaPeak<float>(5):F1} GFLOP/s, double {GemmShapes.FmaPeak<double>(5):F1} GFLOP/s; GemmBenchmarks' GFLOP/s = 2·m·n·k / Mean");
    BenchmarkSwitcher.FromAssembly(typeof(TrainBenchmark).Assembly).Run(args[1..]);
    return 0;
}

Console.Error.WriteLine("""
    usage:
      train [--hidden 128] [--batch 64] [--epochs 3] [--threads 2] [--lr 0.1] [--seed 1234] [--data DIR] [--jit off|default] [--data-path rows|matrix]
            the Fashion-MNIST throughput workload; the last line is RESULT {json}; --jit default runs it with the
            runtime's default JIT settings (tiered compilation on, as in applications) instead of tiered compilation off;
            --data-path matrix reads the images into matrices (ReadImages, copied by every Fit) instead of row-major
            arrays (ReadImageRows, trained on in place)
      load [--rounds 5] [--data DIR] [--data-path rows|matrix]
            reads the four Fashion-MNIST files by both data paths (or one) in alternating rounds; the last line is RESULT {json}
      train-mlp [--layers 1024,1024] [--dtype float32|float64] [--batch 64] [--epochs 3] [--threads 2] [--lr 0.1] [--seed 1234] [--data DIR] [--data-path rows|matrix]
            the train workload with any hidden layers and either element type; the last line is RESULT {json}
      train-cnn [--batch 64] [--epochs 2] [--threads 2] [--lr 0.05] [--momentum 0.9] [--seed 1] [--warmup-steps 50] [--data DIR]
            the network of ../shared/peers/cnn_torch.py on Fashion-MNIST; the last line is RESULT {json}
      step [--hidden 128] [--batch 64] [--epochs 5] [--threads 1] [--rows 16384]
            one training step on synthetic rows (no data set needed); the last line is RESULT {json}
      conv [--batch 64] [--threads 1] [--rounds 9] [--steps 20]
            one Conv2D training step (the CNN peer's two convolutions) on synthetic images: ms and GFLOP/s
      activations [--rounds 9] [--ms 60] [--only NAME]
            ns per element of each element-wise activation's forward and backward (float; 64×128 and 1M elements)
      gemm [--ms 20] [--rounds 7] [--only big|tiny|wide|single] [--shapes 128x1000x1000:NN,…]
            the FMA peak per core, then every product of a training step (big, tiny, wide MLPs; float and double;
            1 and 2 threads) as GFLOP/s and as a fraction of that peak
      predict [--hidden 128] [--rows 1000] [--threads 1] [--rounds 31] [--seed 1]
            our Predict against ONNX Runtime on the exported 784-hidden-10 model (one sample, a batch); the last line is RESULT {json};
            with --threads above 1, ONNX Runtime alternates with ours with its workers' spinning off, and is timed again alone
            afterwards with its default spinning; the ratios are against the faster of the two
      micro [BenchmarkDotNet arguments, e.g. --filter *Gemm*]
            micro-benchmarks of the kernels and of one training step
    """);
return 2;
