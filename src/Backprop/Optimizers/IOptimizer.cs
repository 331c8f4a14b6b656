using System.Numerics;

namespace Backprop;

/// <summary>
/// An update rule that changes parameters from their gradients: step 4 of backpropagation.
/// </summary>
/// <remarks>
/// <para>The optimizer owns its state (velocities, moments), kept per <see cref="Parameter{T}"/> object, so one optimizer
/// serves one network. The trainer calls <see cref="Update{T}"/> once for every parameter after each backward pass.</para>
/// <para>Per-parameter state is public through <see cref="SlotNames"/>, <see cref="GetState{T}"/> and
/// <see cref="RestoreState{T}"/>: checkpoints save and restore every optimizer through these members alone, so an
/// optimizer that keeps state must implement them (create each parameter's state with
/// <see cref="OptimizerState{T}(int, IReadOnlyList{string})"/>); their defaults describe a rule without state. The
/// library's optimizers derive from <see cref="Optimizer"/>, which implements all of this; implementing this interface
/// directly is equally supported.</para>
/// <para>An optimizer whose update of each value reads only that value's position (of the values, the gradients and the
/// slots, plus the step and the hyper-parameters) may say so with <see cref="IsElementwise"/> and implement
/// <see cref="BeginUpdate{T}"/> and <see cref="UpdateRange{T}"/>; the trainer then splits large parameters' updates
/// across threads, with results bit-identical to one whole update.</para>
/// <para>Thread safety: a trainer calls <see cref="Update{T}"/> and <see cref="BeginUpdate{T}"/> on its training thread,
/// one parameter after another, and sets <see cref="LearningRate"/> there between epochs when a schedule is used. When
/// <see cref="IsElementwise"/> is true it may call <see cref="UpdateRange{T}"/> for disjoint ranges of one parameter on
/// several threads at once. An implementation serves one trainer and must not be shared by trainers that run at once.</para>
/// </remarks>
public interface IOptimizer : ISerializableComponent
{
    /// <summary>The name checkpoints store the optimizer under; the class's name unless an implementation says otherwise.</summary>
    string ISerializableComponent.TypeName => GetType().Name;

    /// <summary>Writes the optimizer's settings: its learning rate as "learning_rate", plus whatever an implementation adds.</summary>
    /// <param name="settings">Receives the settings.</param>
    void ISerializableComponent.WriteSettings(ComponentSettings settings) => settings.Set("learning_rate", LearningRate);

    /// <summary>The step size η; schedules may change it between steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a value that is not a finite positive number.</exception>
    double LearningRate { get; set; }

    /// <summary>The names of the per-value arrays kept for every parameter (see <see cref="OptimizerState{T}"/>), in
    /// order; empty (the default) for a rule without state.</summary>
    IReadOnlyList<string> SlotNames => [];

    /// <summary>Whether the update is elementwise, so that <see cref="UpdateRange{T}"/> may run for disjoint ranges of
    /// one parameter on several threads at once with the result of one whole update. False by default.</summary>
    bool IsElementwise => false;

    /// <summary>Applies one step to <paramref name="parameter"/> from its <see cref="Parameter{T}.Gradients"/>.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="parameter">The parameter to change.</param>
    void Update<T>(Parameter<T> parameter)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>The state kept for <paramref name="parameter"/>: its live step count and slots, or null if there is none
    /// (the default: a rule without state).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="parameter">A parameter.</param>
    /// <returns>The live state, or null.</returns>
    OptimizerState<T>? GetState<T>(Parameter<T> parameter)
        where T : unmanaged, IFloatingPointIeee754<T> => null;

    /// <summary>Sets the state of <paramref name="parameter"/> to saved values, replacing any it has, so that the next
    /// update continues exactly where the saved optimizer would have.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="parameter">The parameter the state belongs to.</param>
    /// <param name="step">The number of updates already applied; at least 1.</param>
    /// <param name="slots">One array per name in <see cref="SlotNames"/>, in order, each of <see cref="Parameter{T}.Length"/> values; copied.</param>
    /// <exception cref="ArgumentException">The state does not fit the parameter or the optimizer.</exception>
    /// <exception cref="NotSupportedException">The optimizer keeps no state (the default).</exception>
    void RestoreState<T>(Parameter<T> parameter, long step, IReadOnlyList<T[]> slots)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        throw new NotSupportedException($"The optimizer {GetType().Name} keeps no per-parameter state to restore: it does not implement IOptimizer.RestoreState.");

    /// <summary>The first half of an elementwise update: finds or creates the parameter's state and counts this update in
    /// its <see cref="OptimizerState{T}.Step"/> (1 on the first update). Called on the training thread.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="parameter">The parameter about to be updated.</param>
    /// <returns>Its live state, which <see cref="UpdateRange{T}"/> is then given (whole, or in range views).</returns>
    /// <exception cref="NotSupportedException">The optimizer is not elementwise (the default).</exception>
    OptimizerState<T> BeginUpdate<T>(Parameter<T> parameter)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        throw new NotSupportedException($"The optimizer {GetType().Name} is not elementwise: it does not implement IOptimizer.BeginUpdate.");

    /// <summary>The second half of an elementwise update: the rule applied to a range of a parameter whose
    /// <see cref="BeginUpdate{T}"/> has run. The spans are cut from the same positions of the values and the gradients as
    /// <paramref name="state"/>'s slots (a view of that range, with the parameter's step); the whole parameter is one
    /// range. It must touch nothing but what it is given: disjoint ranges may run on several threads at once.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="values">The values of the range, updated in place.</param>
    /// <param name="gradients">∂L/∂value of the range; not to be changed.</param>
    /// <param name="state">The state of the range.</param>
    /// <exception cref="NotSupportedException">The optimizer is not elementwise (the default).</exception>
    void UpdateRange<T>(Span<T> values, ReadOnlySpan<T> gradients, OptimizerState<T> state)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        throw new NotSupportedException($"The optimizer {GetType().Name} is not elementwise: it does not implement IOptimizer.UpdateRange.");
}
