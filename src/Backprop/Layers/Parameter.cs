using System.Numerics;

namespace Backprop;

/// <summary>
/// One trainable tensor of a layer (a dense layer's weights or biases, a convolution's kernel), of any rank, stored
/// flat and row-major, with the gradient buffer the backward pass fills.
/// </summary>
/// <remarks>
/// <para>A layer creates its parameters while it is built, with <c>Layer&lt;T&gt;.AddParameter</c>; a parameter may also
/// be created on its own and added with the overload that takes one. <see cref="Values"/> is the live storage:
/// writing to it changes the layer. Optimizers key their state (moments, velocities) by the <see cref="Parameter{T}"/>
/// object.</para>
/// <para>Thread safety: none of its own: <see cref="Values"/> and <see cref="Gradients"/> are the layer's live arrays,
/// which training writes on every step. Read them while no step runs (for example from an
/// <see cref="ITrainingObserver"/>, on the training thread between batches); write <see cref="Values"/> only while the
/// network neither predicts nor trains.</para>
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public sealed class Parameter<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    // The parameter that owns the storage (this one, or the one an alias shares it with), which holds the change count
    // and the exposure mark for every name of the storage.
    private readonly Parameter<T> _owner;
    private int _version;
    private bool _exposed;

    /// <summary>Creates a parameter whose values and gradients are all zero.</summary>
    /// <param name="name">The parameter's name within its layer, for example "weights"; not empty.</param>
    /// <param name="shape">Its shape, row-major (the last dimension varies fastest in <see cref="Values"/>).</param>
    /// <param name="isRegularized">Whether the layer's penalties (such as L1 and L2) apply to it: true for weights,
    /// false for biases and normalisation offsets by convention.</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> or <paramref name="shape"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public Parameter(string name, TensorShape shape, bool isRegularized = false)
    {
        Guard.SupportedElementType<T>();
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(shape);
        Name = name;
        Shape = shape;
        IsRegularized = isRegularized;
        ValueArray = new T[shape.Size];
        GradientArray = new T[shape.Size];
        _owner = this;
    }

    /// <summary>Another name for the same storage (values and gradients) and settings as <paramref name="shared"/>: how a
    /// layer that wraps others (a residual block) lists their parameters under names unique within it ("0.weights").</summary>
    internal Parameter(string name, Parameter<T> shared)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        Shape = shared.Shape;
        IsRegularized = shared.IsRegularized;
        ValueArray = shared.ValueArray;
        GradientArray = shared.GradientArray;
        _owner = shared._owner;
    }

    /// <summary>The parameter's name within its layer: "weights" or "biases" for a dense layer.</summary>
    public string Name { get; }

    /// <summary>The shape: for a dense layer's weights units × inputs (as PyTorch's <c>Linear.weight</c> and ONNX's
    /// <c>Gemm</c> with <c>transB</c>), for its biases units.</summary>
    public TensorShape Shape { get; }

    /// <summary>Whether the layer's penalties (such as L1 and L2) apply to this parameter. Optimizers' own weight decay
    /// applies to every parameter, as in PyTorch.</summary>
    public bool IsRegularized { get; }

    /// <summary>The number of values: <see cref="Shape"/>'s size.</summary>
    public int Length => ValueArray.Length;

    /// <summary>The current values, row-major in <see cref="Shape"/>.</summary>
    /// <remarks>This is the live storage, which the caller may write at any time the network is idle: a layer that keeps
    /// a derived copy of a parameter for fast prediction (a dense layer's transposed weights) stops using it for good once
    /// the values have been handed out here (see <see cref="Dense{T}.Weights"/>), so a write is always seen by the next
    /// prediction.</remarks>
    public Span<T> Values
    {
        get
        {
            MarkExposed();
            return ValueArray;
        }
    }

    /// <summary>∂L/∂value for every value, as left by the last backward pass, in the order of <see cref="Values"/>.</summary>
    public Span<T> Gradients => GradientArray;

    internal T[] ValueArray { get; }

    /// <summary>How many times the library has changed the values (training steps, restores): a copy derived from them
    /// is current while this is the number it was made at. Shared by every name of the same storage.</summary>
    internal int Version => Volatile.Read(ref _owner._version);

    /// <summary>Whether the live storage has been handed out (<see cref="Values"/>, or a layer's view of it such as
    /// <see cref="Dense{T}.Weights"/>): the caller may then write it unseen, so no derived copy may be trusted.</summary>
    internal bool IsExposed => Volatile.Read(ref _owner._exposed);

    /// <summary>Records that the library has changed the values.</summary>
    internal void MarkChanged() => Interlocked.Increment(ref _owner._version);

    /// <summary>Records that the live storage has been handed out (see <see cref="IsExposed"/>).</summary>
    internal void MarkExposed() => Volatile.Write(ref _owner._exposed, true);

    internal T[] GradientArray { get; }

    /// <summary>Returns the name and shape.</summary>
    /// <returns>For example "weights[10×64]".</returns>
    public override string ToString() => $"{Name}[{Shape}]";
}
