using System.Globalization;
using Backprop;
using Spectre.Console;

namespace Digits;

/// <summary>Shows training as it goes: a live Spectre.Console progress bar on a terminal, one plain line per epoch
/// when the output is redirected (a file, a pipe, a CI log).</summary>
internal sealed class EpochReporter : ITrainingObserver
{
    private readonly int _epochs;
    private ProgressTask? _task;

    private EpochReporter(int epochs) => _epochs = epochs;

    /// <summary>Whether the console can show a live bar: a terminal that Spectre.Console can redraw.</summary>
    public static bool IsInteractive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="train"/> with a reporter attached to the right kind of output.</summary>
    public static T Run<T>(int epochs, Func<ITrainingObserver, T> train)
    {
        var reporter = new EpochReporter(epochs);
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
        string line = string.Create(CultureInfo.InvariantCulture,
            $"epoch {result.Epoch,3}/{_epochs}: loss {result.Loss:F4}, validation loss {result.ValidationLoss:F4}, validation accuracy {result.ValidationAccuracy:F4}");
        if (_task is null)
        {
            Console.WriteLine(line);
            return;
        }

        _task.Description = Markup.Escape(line);
        _task.Increment(1);
    }
}
