using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Backprop;

/// <summary>
/// The base of the library's optimizers: validates the learning rate and keeps every parameter's
/// <see cref="OptimizerState{T}"/> (its update count and per-value slots) in one place.
/// </summary>
/// <remarks>
/// <para>State is keyed by the <see cref="Parameter{T}"/> object (reference equality) and created, zero-filled, on the
/// parameter's first <see cref="Update{T}"/>; from then on an update allocates nothing. The per-parameter step count
/// <see cref="OptimizerState{T}.Step"/> is incremented before the derived class's <see cref="OnUpdate{T}"/> runs, so
/// it is t = 1 on the first update, as in the papers' bias corrections.</para>
/// <para>Saving and restoring: every piece of per-parameter state is an <see cref="OptimizerState{T}"/>, whose
/// <see cref="OptimizerState{T}.Step"/> and slots (named by <see cref="SlotNames"/>) are the whole of it; the
/// hyper-parameters are the optimizer's properties. To save, walk the network's parameters in order
/// (<c>network.Layers[l].Parameters[p]</c>) and read <see cref="GetState{T}"/> (null for a parameter never updated),
/// or list everything with <see cref="GetStates{T}"/>. To restore, create an optimizer with the same hyper-parameters
/// and call <see cref="RestoreState{T}"/> for each saved parameter: the next update continues exactly, bit for bit,
/// where the saved optimizer would have.</para>
/// <para>Thread safety: not thread-safe: give each trainer its own instance, and read or restore its state only while
/// that trainer is not in a step. When <see cref="IsElementwise"/> is true and the network's
/// <see cref="Network{T}.MaxDegreeOfParallelism"/> is above 1, the trainer finds every state on its own thread and then
/// may call <see cref="OnUpdate{T}"/> for disjoint ranges of one parameter on its worker threads at once: such an
/// update must touch only the spans and state it is given, and <see cref="GetScratch{T}"/>, which is per thread.</para>
/// </remarks>
public abstract class Optimizer : IOptimizer
{
    private readonly Dictionary<object, object> _states = new(ReferenceEqualityComparer.Instance);
    private readonly List<object> _order = [];
    private readonly IReadOnlyList<string> _slotNames;
    private double _learningRate;

    /// <summary>Initialises the optimizer.</summary>
    /// <param name="learningRate">η, a finite number greater than 0.</param>
    /// <param name="slotNames">The names of the per-value arrays the optimizer keeps for every parameter, in order; none for a stateless rule.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is not finite and positive (reported, as by
    /// the setter, under the name <see cref="LearningRate"/>).</exception>
    /// <exception cref="ArgumentNullException"><paramref name="slotNames"/> is null.</exception>
    protected Optimizer(double learningRate, params string[] slotNames)
    {
        ArgumentNullException.ThrowIfNull(slotNames);
        Guard.PositiveFinite(learningRate, nameof(learningRate));
        _learningRate = learningRate;
        _slotNames = Array.AsReadOnly((string[])slotNames.Clone());
    }

    /// <inheritdoc />
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            Guard.PositiveFinite(value, nameof(LearningRate));
            _learningRate = value;
        }
    }

    /// <summary>The names of the arrays kept for every parameter (see <see cref="OptimizerState{T}"/>); empty for a
    /// rule without state, such as plain SGD.</summary>
    public IReadOnlyList<string> SlotNames => _slotNames;

    /// <summary>The number of parameters that have state: those updated (or restored) since creation or the last <see cref="ResetState"/>.</summary>
    public int StateCount => _order.Count;

    /// <inheritdoc />
    /// <exception cref="ArgumentNullException"><paramref name="parameter"/> is null.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Update<T>(Parameter<T> parameter)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameter);
        ApplyUpdate(parameter, BeginUpdate(parameter));
    }

    /// <summary>Whether <see cref="OnUpdate{T}"/> computes every value from the same position of the values, the
    /// gradients and the slots alone (plus the step count and the hyper-parameters), so that a trainer may update
    /// disjoint ranges of a large parameter on several threads at once and get the same result as one whole update.
    /// False unless a derived class says otherwise; every built-in optimizer is elementwise.</summary>
    /// <remarks>An elementwise <see cref="OnUpdate{T}"/> may be called with a range of a parameter: spans of equal
    /// length cut from the same positions of the values, the gradients and every slot, and with the parameter's step.
    /// It must not keep anything between calls outside the slots; <see cref="GetScratch{T}"/> is per thread.</remarks>
    protected virtual bool IsElementwise => false;

    /// <inheritdoc />
    bool IOptimizer.IsElementwise => IsElementwise;

    // Whether the trainer may split this optimizer's updates into ranges (see IsElementwise).
    internal bool CanUpdateRanges => IsElementwise;

    /// <inheritdoc />
    OptimizerState<T> IOptimizer.BeginUpdate<T>(Parameter<T> parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        return BeginUpdate(parameter);
    }

    /// <inheritdoc />
    void IOptimizer.UpdateRange<T>(Span<T> values, ReadOnlySpan<T> gradients, OptimizerState<T> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        OnUpdate(values, gradients, state);
    }

    // The first half of an update: finds or creates the parameter's state and counts the update in its step.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal OptimizerState<T> BeginUpdate<T>(Parameter<T> parameter)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        OptimizerState<T> state;
        if (_states.TryGetValue(parameter, out object? existing))
        {
            state = (OptimizerState<T>)existing;
        }
        else
        {
            state = new OptimizerState<T>(parameter.Length, _slotNames);
            _states.Add(parameter, state);
            _order.Add(parameter);
        }

        state.Step++;
        return state;
    }

    // The whole update of a parameter whose BeginUpdate has run.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal void ApplyUpdate<T>(Parameter<T> parameter, OptimizerState<T> state)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        OnUpdate(parameter.Values, parameter.Gradients, state);

    // The update of values [start, start + length) of a parameter whose BeginUpdate has run, as part `part` of
    // `parts`: safe to run for disjoint ranges on several threads at once when the optimizer is elementwise.
    internal void UpdateRange<T>(Parameter<T> parameter, OptimizerState<T> state, int part, int parts, int start, int length)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        OnUpdate(
            parameter.ValueArray.AsSpan(start, length),
            parameter.GradientArray.AsSpan(start, length),
            state.Part(part, parts, start, length));

    /// <summary>The state kept for <paramref name="parameter"/>: its live update count and slots.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="parameter">A parameter.</param>
    /// <returns>The state, or null if the optimizer has not updated (or been given state for) the parameter.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="parameter"/> is null.</exception>
    public OptimizerState<T>? GetState<T>(Parameter<T> parameter)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameter);
        return _states.TryGetValue(parameter, out object? state) ? (OptimizerState<T>)state : null;
    }

    /// <summary>Lists every parameter of element type <typeparamref name="T"/> that has state, in the order the
    /// optimizer first saw them (for a trainer, the network's layer and parameter order).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <returns>Pairs of a parameter and its live state.</returns>
    public IReadOnlyList<KeyValuePair<Parameter<T>, OptimizerState<T>>> GetStates<T>()
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var result = new List<KeyValuePair<Parameter<T>, OptimizerState<T>>>(_order.Count);
        foreach (object key in _order)
        {
            if (key is Parameter<T> parameter)
            {
                result.Add(new(parameter, (OptimizerState<T>)_states[key]));
            }
        }

        return result;
    }

    /// <summary>Sets the state of <paramref name="parameter"/> to saved values, replacing any it has: the next
    /// <see cref="Update{T}"/> is then update number <paramref name="step"/> + 1 and uses copies of <paramref name="slots"/>.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="parameter">The parameter the state belongs to.</param>
    /// <param name="step">The number of updates already applied; at least 1.</param>
    /// <param name="slots">One array per name in <see cref="SlotNames"/>, in that order, each of <see cref="Parameter{T}.Length"/> finite values; copied.</param>
    /// <exception cref="ArgumentNullException"><paramref name="parameter"/> or <paramref name="slots"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is less than 1.</exception>
    /// <exception cref="ArgumentException"><paramref name="slots"/> has the wrong number of arrays, or an array is null, has the wrong length or a value that is not finite.</exception>
    public void RestoreState<T>(Parameter<T> parameter, long step, IReadOnlyList<T[]> slots)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameter);
        ArgumentNullException.ThrowIfNull(slots);
        if (step < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, $"step must be at least 1 (the number of updates already applied), but it is {step}.");
        }

        if (slots.Count != _slotNames.Count)
        {
            throw new ArgumentException(
                $"slots must hold {_slotNames.Count} arrays ({(_slotNames.Count == 0 ? "this optimizer keeps none" : string.Join(", ", _slotNames))}), but it holds {slots.Count}.",
                nameof(slots));
        }

        for (int i = 0; i < slots.Count; i++)
        {
            T[]? slot = slots[i];
            if (slot is null || slot.Length != parameter.Length)
            {
                throw new ArgumentException(
                    $"slots[{i}] ({_slotNames[i]}) must hold {parameter.Length} values (the length of {parameter}), but it {(slot is null ? "is null" : $"holds {slot.Length}")}.",
                    nameof(slots));
            }

            int bad = Guard.IndexOfNonFinite<T>(slot);
            if (bad >= 0)
            {
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"slots[{i}] ({_slotNames[i]}) must contain only finite numbers, but element {bad} is {slot[bad]}."),
                    nameof(slots));
            }
        }

        var state = new OptimizerState<T>(parameter.Length, _slotNames) { Step = step };
        for (int i = 0; i < slots.Count; i++)
        {
            slots[i].CopyTo(state.Slot(i));
        }

        if (_states.ContainsKey(parameter))
        {
            _states[parameter] = state;
        }
        else
        {
            _states.Add(parameter, state);
            _order.Add(parameter);
        }
    }

    /// <summary>Forgets the state of every parameter: the next update of each is again its first.</summary>
    public void ResetState()
    {
        _states.Clear();
        _order.Clear();
    }

    /// <summary>The rule itself: changes <paramref name="values"/> from <paramref name="gradients"/> and the parameter's state.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="values">The parameter's live values, to update in place.</param>
    /// <param name="gradients">∂L/∂value; must not be changed (callers may read them after the step).</param>
    /// <param name="state">The parameter's state, its <see cref="OptimizerState{T}.Step"/> already counting this update
    /// (1 on the first); its slots are zero on the first update.</param>
    protected abstract void OnUpdate<T>(Span<T> values, ReadOnlySpan<T> gradients, OptimizerState<T> state)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>A work buffer of the calling thread, shared by all parameters and optimizers, for intermediate results of
    /// an update; its contents are undefined on entry and it must not be kept after <see cref="OnUpdate{T}"/> returns.
    /// It grows only when a longer parameter (or another element type) is first seen, so steady-state updates do not
    /// allocate.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="length">The number of values needed.</param>
    /// <returns>A span of exactly <paramref name="length"/> values.</returns>
    protected Span<T> GetScratch<T>(int length)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T[]? scratch = ThreadScratch<T>.Buffer;
        if (scratch is null || scratch.Length < length)
        {
            scratch = new T[length];
            ThreadScratch<T>.Buffer = scratch;
        }

        return scratch.AsSpan(0, length);
    }

    // One scratch array per thread and element type: the parts of a partitioned update run on several threads.
    private static class ThreadScratch<T>
    {
        [ThreadStatic]
        internal static T[]? Buffer;
    }
}
