namespace Backprop.Tests.Training;

public class ObserverTests
{
    [Fact]
    public void Observers_see_every_epoch_and_batch_in_order()
    {
        var x = TestData.Random<double>(10, 2, seed: 1);
        var y = TestData.Random<double>(10, 1, seed: 2);
        var network = new Network<double>(2, new Dense<double>(1));
        var log = new Log();

        var history = new Trainer<double>(network, Losses.MeanSquaredError, new Sgd(0.1))
            .Fit(x, y, new FitOptions { Epochs = 2, BatchSize = 4, Observers = [log] });

        log.Events.Should().Equal(
            "begin 1", "batch 1.1", "batch 1.2", "batch 1.3", "end 1",
            "begin 2", "batch 2.1", "batch 2.2", "batch 2.3", "end 2");
        log.Losses.Should().Equal(history.Loss);
    }

    [Fact]
    public void A_null_observer_is_rejected() =>
        FluentActions.Invoking(() => new Trainer<double>(new Network<double>(1, new Dense<double>(1)), Losses.MeanSquaredError, new Sgd(0.1))
                .Fit(TestData.Random<double>(2, 1, 1), TestData.Random<double>(2, 1, 2), new FitOptions { Observers = [null!] }))
            .Should().Throw<ArgumentException>().WithMessage("*Observers*null*");

    private sealed class Log : ITrainingObserver
    {
        public List<string> Events { get; } = [];

        public List<double> Losses { get; } = [];

        public void OnEpochBegin(int epoch) => Events.Add($"begin {epoch}");

        public void OnBatchEnd(int epoch, int batch, double loss) => Events.Add($"batch {epoch}.{batch}");

        public void OnEpochEnd(EpochResult result)
        {
            Events.Add($"end {result.Epoch}");
            Losses.Add(result.Loss);
            result.Duration.Should().BeGreaterThan(TimeSpan.Zero);
        }
    }
}
