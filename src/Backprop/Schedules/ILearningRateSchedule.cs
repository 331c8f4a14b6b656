namespace Backprop;

/// <summary>
/// A learning-rate schedule: the learning rate to train each epoch with, from the optimizer's base learning rate.
/// </summary>
/// <remarks>
/// <para>Before epoch e (1-based) starts, the caller sets the optimizer's <see cref="IOptimizer.LearningRate"/> to
/// <see cref="LearningRateFor"/>(e, η₀), where η₀ is the learning rate the optimizer was created with; after the epoch it
/// calls <see cref="OnEpochEnd"/> with the loss it monitors (the validation loss if there is one, else the training
/// loss), which schedules that react to the loss, such as <see cref="ReduceOnPlateauSchedule"/>, use.</para>
/// <para>The returned rate is finite and ≥ 0. Optimizers reject 0, which a schedule returns only when it is configured
/// to decay to a minimum of 0 (see <see cref="CosineAnnealingSchedule"/>).</para>
/// <para>Thread safety: <c>Fit</c> calls <see cref="LearningRateFor"/> before each epoch and <see cref="OnEpochEnd"/>
/// after it, on its training thread. A schedule without state may be shared by runs that train at once; one that reacts
/// to the loss, such as <see cref="ReduceOnPlateauSchedule"/>, must belong to one run.</para>
/// </remarks>
public interface ILearningRateSchedule
{
    /// <summary>The learning rate for an epoch.</summary>
    /// <param name="epoch">The 1-based number of the epoch about to start.</param>
    /// <param name="baseLearningRate">η₀, the optimizer's initial learning rate; a finite number greater than 0.</param>
    /// <returns>The learning rate to use throughout the epoch.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epoch"/> is less than 1, or <paramref name="baseLearningRate"/> is not finite and positive.</exception>
    double LearningRateFor(int epoch, double baseLearningRate);

    /// <summary>Reports the loss at the end of an epoch; does nothing unless the schedule reacts to the loss.</summary>
    /// <param name="epoch">The 1-based number of the epoch that ended.</param>
    /// <param name="monitoredLoss">The loss the schedule monitors, for that epoch.</param>
    void OnEpochEnd(int epoch, double monitoredLoss)
    {
    }
}
