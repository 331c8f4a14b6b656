using System.Globalization;

namespace Backprop;

/// <summary>A value <c>Fit</c> records for every epoch in <see cref="EpochResult"/>, for observers such as
/// <see cref="EarlyStopping"/> to watch.</summary>
public enum TrainingMetric
{
    /// <summary><see cref="EpochResult.Loss"/>: lower is better.</summary>
    Loss,

    /// <summary><see cref="EpochResult.ValidationLoss"/>: lower is better; needs validation data.</summary>
    ValidationLoss,

    /// <summary><see cref="EpochResult.Accuracy"/>: higher is better; needs class targets.</summary>
    Accuracy,

    /// <summary><see cref="EpochResult.ValidationAccuracy"/>: higher is better; needs validation data with class targets.</summary>
    ValidationAccuracy,

    /// <summary><see cref="EpochResult.HammingAccuracy"/>: higher is better; needs a multi-label classifier.</summary>
    HammingAccuracy,

    /// <summary><see cref="EpochResult.ValidationHammingAccuracy"/>: higher is better; needs a multi-label classifier and validation data.</summary>
    ValidationHammingAccuracy,
}

/// <summary>Which way a monitored metric improves.</summary>
public enum MonitorMode
{
    /// <summary>From the metric: down for a loss, up for an accuracy.</summary>
    Auto,

    /// <summary>A lower value is better.</summary>
    Min,

    /// <summary>A higher value is better.</summary>
    Max,
}

/// <summary>
/// An observer that stops training when a monitored metric has not improved by more than <see cref="MinDelta"/> for
/// <see cref="Patience"/> epochs, and can put back the weights of the best epoch, as Keras's EarlyStopping.
/// </summary>
/// <remarks>
/// <para>Give it in <see cref="FitOptions.EarlyStopping"/> (or, equally, in <see cref="FitOptions.Observers"/>). By
/// default it watches the validation loss when the run has validation data, else the training loss; set
/// <see cref="Monitor"/> to watch another metric, such as <see cref="TrainingMetric.ValidationAccuracy"/>.</para>
/// <para>After every epoch, with m the monitored value and best the best value so far (±∞ at the start): the epoch
/// improves when m &lt; best − MinDelta (mode <see cref="MonitorMode.Min"/>) or m &gt; best + MinDelta
/// (<see cref="MonitorMode.Max"/>); it then becomes the best epoch and the count of epochs without improvement restarts
/// at 0. When that count reaches <see cref="Patience"/>, it asks the run to stop
/// (<see cref="TrainingContext.StopTraining"/>). When the run ends, it sets <see cref="TrainingHistory.BestEpoch"/> and,
/// with <see cref="RestoreBestWeights"/>, puts back the parameter values of the best epoch if a later one ended the
/// run (the optimizer's state is not rolled back). A run that ends by an exception or a cancellation keeps the weights
/// of its last finished step.</para>
/// <para>Thread safety: the settings are init-only, but an instance keeps the best value and weights of the run it
/// watches (reset when a run begins), so an instance in <see cref="FitOptions.Observers"/> may serve one run at a time.
/// <see cref="FitOptions.EarlyStopping"/> is copied for every run, so options that hold it may be shared by runs at once.</para>
/// </remarks>
public sealed class EarlyStopping : ITrainingObserver
{
    private TrainingContext? _context;
    private bool _watching;
    private TrainingMetric _monitored;
    private bool _maximise;
    private double _best;
    private int _bestEpoch;
    private int _epochsWithoutImprovement;
    private object? _bestWeights;

    /// <summary>Epochs without improvement to wait before stopping; at least 1. 5 by default.</summary>
    public int Patience { get; init; } = 5;

    /// <summary>The least change of the monitored metric, in its better direction, that counts as an improvement; at
    /// least 0. 0 by default.</summary>
    public double MinDelta { get; init; }

    /// <summary>Whether to put back the weights of the best epoch when training ends. True by default.</summary>
    public bool RestoreBestWeights { get; init; } = true;

    /// <summary>The metric to watch; null (the default) watches <see cref="TrainingMetric.ValidationLoss"/> when the run
    /// has validation data and <see cref="TrainingMetric.Loss"/> otherwise.</summary>
    public TrainingMetric? Monitor { get; init; }

    /// <summary>Which way the metric improves; <see cref="MonitorMode.Auto"/> (the default) minimises a loss and
    /// maximises an accuracy.</summary>
    public MonitorMode Mode { get; init; }

    /// <summary>Resets the state for a new run.</summary>
    /// <param name="context">The run.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void OnTrainBegin(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Validate("EarlyStopping");
        _context = context;
        _bestEpoch = 0;
        _epochsWithoutImprovement = 0;
        _bestWeights = null;
        _watching = false;
    }

    /// <summary>Compares the epoch's monitored value with the best so far, and asks the run to stop when
    /// <see cref="Patience"/> epochs in a row have not improved it.</summary>
    /// <param name="result">The epoch.</param>
    /// <exception cref="InvalidOperationException">The run did not begin with <see cref="OnTrainBegin"/>, or the epoch
    /// does not record the monitored metric (validation data or class targets missing).</exception>
    public void OnEpochEnd(EpochResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var context = _context ?? throw new InvalidOperationException("EarlyStopping.OnEpochEnd was called outside a run: Fit calls OnTrainBegin first.");
        if (!_watching)
        {
            _watching = true;
            // The first epoch decides what the default watches, and which way it improves.
            _monitored = Monitor ?? (result.ValidationLoss is null ? TrainingMetric.Loss : TrainingMetric.ValidationLoss);
            _maximise = Mode == MonitorMode.Max || (Mode == MonitorMode.Auto && _monitored is not (TrainingMetric.Loss or TrainingMetric.ValidationLoss));
            _best = _maximise ? double.NegativeInfinity : double.PositiveInfinity;
        }

        double value = result.MetricValue(_monitored) ?? throw new InvalidOperationException(
            $"EarlyStopping monitors {_monitored}, but epoch {result.Epoch} did not record it: {Needs(_monitored)}.");
        bool improved = _maximise ? value > _best + MinDelta : value < _best - MinDelta;
        if (improved)
        {
            _best = value;
            _bestEpoch = result.Epoch;
            _epochsWithoutImprovement = 0;
            if (RestoreBestWeights)
            {
                _bestWeights = context.CaptureWeights(_bestWeights);
            }
        }
        else if (++_epochsWithoutImprovement >= Patience)
        {
            context.StopTraining();
        }
    }

    /// <summary>Records the best epoch in the history and, with <see cref="RestoreBestWeights"/>, puts back its weights.</summary>
    /// <param name="context">The run.</param>
    public void OnTrainEnd(TrainingContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var history = context.History;
        history.BestEpoch = _bestEpoch;
        if (_bestWeights is not null && history.Epochs.Count > 0 && _bestEpoch != history.Epochs[^1].Epoch)
        {
            context.RestoreWeights(_bestWeights);
        }

        _context = null;
        _bestWeights = null;
    }

    /// <summary>A fresh instance with the same settings, for one run of <see cref="FitOptions.EarlyStopping"/>.</summary>
    internal EarlyStopping ForRun() => new()
    {
        Patience = Patience,
        MinDelta = MinDelta,
        RestoreBestWeights = RestoreBestWeights,
        Monitor = Monitor,
        Mode = Mode,
    };

    /// <summary>Checks the settings, naming them as <paramref name="name"/>'s.</summary>
    internal void Validate(string name)
    {
        if (Patience < 1)
        {
            throw new ArgumentOutOfRangeException("options", Patience, $"{name}.Patience must be at least 1, but it is {Patience}.");
        }

        if (!(MinDelta >= 0) || !double.IsFinite(MinDelta))
        {
            throw new ArgumentOutOfRangeException("options", MinDelta,
                string.Create(CultureInfo.InvariantCulture, $"{name}.MinDelta must be a finite number of at least 0, but it is {MinDelta}."));
        }

        if (Monitor is { } monitor && !Enum.IsDefined(monitor))
        {
            throw new ArgumentOutOfRangeException("options", monitor, $"{name}.Monitor must be a TrainingMetric, but it is {(int)monitor}.");
        }

        if (!Enum.IsDefined(Mode))
        {
            throw new ArgumentOutOfRangeException("options", Mode, $"{name}.Mode must be Auto, Min or Max, but it is {(int)Mode}.");
        }
    }

    private static string Needs(TrainingMetric metric) => metric switch
    {
        TrainingMetric.ValidationLoss => "pass validation data or a ValidationFraction",
        TrainingMetric.Accuracy => "the targets must be classes (labels, one-hot rows, or 0/1 targets of a binary or multi-label classifier)",
        TrainingMetric.ValidationAccuracy => "pass validation data (or a ValidationFraction) with class targets",
        TrainingMetric.HammingAccuracy => "it is recorded for a multi-label classifier (several outputs, a binary loss, 0/1 target matrix)",
        _ => "it is recorded for a multi-label classifier with validation data",
    };
}
