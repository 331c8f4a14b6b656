using System.Numerics;

namespace Backprop;

/// <summary>
/// One <c>Fit</c> run as its observers see it: the epochs it runs, the history recorded so far, and the way to end it
/// early. <c>Fit</c> gives it to every <see cref="ITrainingObserver"/> in <see cref="ITrainingObserver.OnTrainBegin"/>
/// and <see cref="ITrainingObserver.OnTrainEnd"/>; an observer that may stop training keeps it from the first.
/// </summary>
/// <remarks>
/// <para><see cref="StopTraining"/> ends the run at the end of the current epoch: the epoch's remaining batches, its
/// validation, every observer's <see cref="ITrainingObserver.OnEpochEnd"/>, the progress report and the schedule still
/// run, then <c>Fit</c> calls <see cref="ITrainingObserver.OnTrainEnd"/> and returns the history, with
/// <see cref="TrainingHistory.StoppedEarly"/> set when epochs were left. A stop requested in
/// <see cref="ITrainingObserver.OnTrainBegin"/> runs no epoch. To stop between two batches instead, cancel
/// <c>Fit</c>'s <see cref="CancellationToken"/>.</para>
/// <para>The context of a run of a <see cref="Trainer{T}"/> is a <see cref="TrainingContext{T}"/>,
/// which also gives the trainer (and through it the network, the loss and the optimizer).</para>
/// <para>Thread safety: it belongs to one run, and <c>Fit</c> calls its observers on its training thread; call
/// <see cref="StopTraining"/> from that thread (from an observer's member), or synchronise with it.</para>
/// </remarks>
public abstract class TrainingContext
{
    private protected TrainingContext(TrainingHistory history, int firstEpoch, int lastEpoch)
    {
        History = history;
        FirstEpoch = firstEpoch;
        LastEpoch = lastEpoch;
    }

    /// <summary>The 1-based number of the run's first epoch: one more than the trainer's epochs completed when <c>Fit</c> began.</summary>
    public int FirstEpoch { get; }

    /// <summary>The number of the run's last epoch, unless it stops early: <see cref="FirstEpoch"/> + <see cref="FitOptions.Epochs"/> − 1.</summary>
    public int LastEpoch { get; }

    /// <summary>The history the run returns, holding the epochs finished so far.</summary>
    public TrainingHistory History { get; }

    /// <summary>Whether an observer has called <see cref="StopTraining"/>.</summary>
    public bool StopRequested { get; private set; }

    /// <summary>Asks <c>Fit</c> to end the run once the current epoch is over (see the remarks); calling it again changes nothing.</summary>
    public void StopTraining() => StopRequested = true;

    /// <summary>Copies the value of every trainable parameter of the network, into <paramref name="reuse"/> when it is
    /// a snapshot of this context.</summary>
    internal abstract object CaptureWeights(object? reuse);

    /// <summary>Puts back the parameter values of a snapshot from <see cref="CaptureWeights"/>.</summary>
    internal abstract void RestoreWeights(object snapshot);
}

/// <summary>The <see cref="TrainingContext"/> of a run that trains a <see cref="Network{T}"/>: it also gives the trainer.</summary>
/// <remarks>Thread safety: as <see cref="TrainingContext"/>.</remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class TrainingContext<T> : TrainingContext
    where T : unmanaged, IFloatingPointIeee754<T>
{
    internal TrainingContext(Trainer<T> trainer, TrainingHistory history, int firstEpoch, int lastEpoch)
        : base(history, firstEpoch, lastEpoch)
    {
        Trainer = trainer;
    }

    /// <summary>The trainer running <c>Fit</c>: its network, loss, optimizer and <see cref="Trainer{T}.EpochsCompleted"/>.</summary>
    public Trainer<T> Trainer { get; }

    internal override object CaptureWeights(object? reuse)
    {
        var parameters = Parameters();
        var saved = reuse as T[][] ?? parameters.Select(p => new T[p.Length]).ToArray();
        for (int i = 0; i < parameters.Length; i++)
        {
            parameters[i].ValueArray.CopyTo(saved[i], 0);
        }

        return saved;
    }

    internal override void RestoreWeights(object snapshot)
    {
        var saved = (T[][])snapshot;
        var parameters = Parameters();
        for (int i = 0; i < parameters.Length; i++)
        {
            saved[i].CopyTo(parameters[i].ValueArray, 0);
            parameters[i].MarkChanged();
        }
    }

    private Parameter<T>[] Parameters() => Trainer.Network.Layers.SelectMany(l => l.Parameters).ToArray();
}
