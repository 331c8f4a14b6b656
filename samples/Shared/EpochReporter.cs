using System.Globalization;
using System.Text;
using Spectre.Console;

namespace Backprop.Samples;

/// <summary>Shows training as it goes: a live Spectre.Console progress bar on a terminal, one plain line per epoch
/// when the output is redirected (a file, a pipe, a CI log). Shared by the samples (linked into each project).</summary>
internal sealed class EpochReporter : ITrainingObserver
{
    private readonly int _epochs;
    private readonly int? _samples;
    private ProgressTask? _task;

    private EpochReporter(int epochs, int? samples)
    {
        _epochs = epochs;
        _samples = samples;
    }

    /// <summary>Whether the console can show a live bar: a terminal that Spectre.Console can redraw.</summary>
    public static bool IsInteractive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="train"/> with a reporter attached to the right kind of output; with
    /// <paramref name="samples"/> (the training rows per epoch) each line also gives the epoch's throughput.</summary>
    public static T Run<T>(int epochs, Func<ITrainingObserver, T> train, int? samples = null)
    {
        var reporter = new EpochReporter(epochs, samples);
        if (!IsInteractive)
        {
            return train(reporter);
        }

        return AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(context =>
            {
                reporter._task = context.AddTask("training", maxValue: epochs);
                return train(reporter);
            });
    }

    public void OnEpochEnd(EpochResult result)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"epoch {result.Epoch,3}/{_epochs}: loss {result.Loss:F4}");
        if (result.ValidationLoss is double validationLoss)
        {
            text.Append(CultureInfo.InvariantCulture, $", validation loss {validationLoss:F4}, validation accuracy {result.ValidationAccuracy:F4}");
        }
        else if (result.Accuracy is double accuracy)
        {
            text.Append(CultureInfo.InvariantCulture, $", training accuracy {accuracy:F4}");
        }

        if (_samples is int samples)
        {
            double seconds = result.Duration.TotalSeconds;
            text.Append(CultureInfo.InvariantCulture, $", {seconds:F1} s, {samples / seconds:F0} samples/s");
        }

        string line = text.ToString();
        if (_task is null)
        {
            Console.WriteLine(line);
            return;
        }

        _task.Description = Markup.Escape(line);
        _task.Increment(1);
    }
}
