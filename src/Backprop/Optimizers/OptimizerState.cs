using System.Numerics;

namespace Backprop;

/// <summary>
/// What an <see cref="Optimizer"/> remembers about one <see cref="Parameter{T}"/>: the number of updates applied to it
/// and the optimizer's per-value arrays (its "slots": moments, velocities, step sizes, previous gradients).
/// </summary>
/// <remarks>
/// <para>Each slot holds exactly <see cref="Length"/> values, one per value of the parameter, in the parameter's storage
/// order. The slot names are the optimizer's <see cref="IOptimizer.SlotNames"/>, in the same order; for example
/// Adam's are "exp_avg" (m) and "exp_avg_sq" (v).</para>
/// <para><see cref="GetSlot(int)"/> returns the live storage, as <see cref="Parameter{T}.Values"/> does: writing to it
/// changes what the next update sees. To save and restore state, read <see cref="Step"/> and every slot, and give them
/// back with <see cref="IOptimizer.RestoreState{T}(Parameter{T}, long, IReadOnlyList{T[]})"/>.</para>
/// <para>Thread safety: not thread-safe: <see cref="Step"/> and the slots are live state that every update changes.
/// Read or write them only while the trainer is not in a step (for example from an <see cref="ITrainingObserver"/>, on
/// the training thread between batches).</para>
/// </remarks>
/// <typeparam name="T">The element type of the parameter.</typeparam>
public sealed class OptimizerState<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[][] _slots;

    // Where this state's values start in the slot arrays: 0, except for the range views of a partitioned update.
    private readonly int _offset;

    // The range views handed to the parts of the last partitioned update, kept so that the next one allocates nothing.
    private OptimizerState<T>[]? _parts;

    private long _step;

    /// <summary>Creates the state of a parameter of <paramref name="length"/> values: step 0 and every slot zero. A
    /// custom <see cref="IOptimizer"/> creates one per parameter on its first update (and in
    /// <see cref="IOptimizer.RestoreState{T}"/>).</summary>
    /// <param name="length">The parameter's <see cref="Parameter{T}.Length"/>; not negative.</param>
    /// <param name="slotNames">The optimizer's <see cref="IOptimizer.SlotNames"/>; kept, not copied.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="slotNames"/> is null.</exception>
    public OptimizerState(int length, IReadOnlyList<string> slotNames)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentNullException.ThrowIfNull(slotNames);
        Length = length;
        SlotNames = slotNames;
        _slots = new T[slotNames.Count][];
        for (int i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new T[length];
        }
    }

    // A view of values [offset, offset + length) of every slot of `whole`, for one part of a partitioned update.
    private OptimizerState(OptimizerState<T> whole, int offset, int length)
    {
        Length = length;
        SlotNames = whole.SlotNames;
        _slots = whole._slots;
        _offset = offset;
    }

    /// <summary>The number of updates applied to the parameter so far (t in the papers' formulas); at least 1 once the
    /// state exists. During an update it is already the number of the update being applied, starting at 1. A custom
    /// optimizer increments it in <see cref="IOptimizer.BeginUpdate{T}"/> (or its <see cref="IOptimizer.Update{T}"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a negative value.</exception>
    public long Step
    {
        get => _step;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value, nameof(Step));
            _step = value;
        }
    }

    /// <summary>The number of values in every slot: the parameter's <see cref="Parameter{T}.Length"/>.</summary>
    public int Length { get; }

    /// <summary>The names of the slots, in order; the optimizer's <see cref="IOptimizer.SlotNames"/>.</summary>
    public IReadOnlyList<string> SlotNames { get; }

    /// <summary>The number of slots.</summary>
    public int SlotCount => _slots.Length;

    /// <summary>The live values of one slot.</summary>
    /// <param name="index">The slot's position in <see cref="SlotNames"/>.</param>
    /// <returns>The slot's storage, <see cref="Length"/> values.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is outside [0, <see cref="SlotCount"/>).</exception>
    public Span<T> GetSlot(int index)
    {
        if ((uint)index >= (uint)_slots.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index,
                $"index must be in [0, {_slots.Length - 1}] (the optimizer has {_slots.Length} slots), but it is {index}.");
        }

        return _slots[index].AsSpan(_offset, Length);
    }

    /// <summary>The live values of the slot with the given name.</summary>
    /// <param name="name">One of <see cref="SlotNames"/>.</param>
    /// <returns>The slot's storage, <see cref="Length"/> values.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is not one of <see cref="SlotNames"/>.</exception>
    public Span<T> GetSlot(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        for (int i = 0; i < SlotNames.Count; i++)
        {
            if (SlotNames[i] == name)
            {
                return _slots[i].AsSpan(_offset, Length);
            }
        }

        throw new ArgumentException(
            $"name must be one of the optimizer's slots ({(SlotNames.Count == 0 ? "it has none" : string.Join(", ", SlotNames))}), but it is \"{name}\".",
            nameof(name));
    }

    /// <summary>Describes the state.</summary>
    /// <returns>For example "step 3: exp_avg[512], exp_avg_sq[512]".</returns>
    public override string ToString() =>
        FormattableString.Invariant($"step {Step}: {string.Join(", ", SlotNames.Select(n => $"{n}[{Length}]"))}");

    /// <summary>The slot's array, for the optimizer's update.</summary>
    internal Span<T> Slot(int index) => _slots[index].AsSpan(_offset, Length);

    // The view of values [start, start + length) for part `part` of `parts`, with this state's step; the views are
    // cached per part, so a partitioned update allocates only when its ranges change.
    internal OptimizerState<T> Part(int part, int parts, int start, int length)
    {
        if (_parts is null || _parts.Length != parts)
        {
            _parts = new OptimizerState<T>[parts];
        }

        var view = _parts[part];
        if (view is null || view._offset != _offset + start || view.Length != length)
        {
            view = new OptimizerState<T>(this, _offset + start, length);
            _parts[part] = view;
        }

        view.Step = Step;
        return view;
    }
}
