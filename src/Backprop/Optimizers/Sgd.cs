using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop;

/// <summary>
/// Stochastic gradient descent, optionally with momentum or Nesterov momentum.
/// </summary>
/// <remarks>
/// <para>Without momentum: w ← w − η·g. With momentum μ (the formulation of PyTorch's SGD, whose velocity starts at 0):
/// v ← μ·v + g, then w ← w − η·v; with Nesterov momentum, w ← w − η·(g + μ·v).</para>
/// <para>Polyak, "Some methods of speeding up the convergence of iteration methods" (1964); Sutskever, Martens, Dahl and
/// Hinton, "On the importance of initialization and momentum in deep learning", ICML 2013. Typical η: 0.01–0.1,
/// μ = 0.9.</para>
/// </remarks>
public sealed class Sgd : IOptimizer
{
    private readonly Dictionary<object, object> _velocities = new(ReferenceEqualityComparer.Instance);
    private double _learningRate;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="learningRate">η, a finite number greater than 0.</param>
    /// <param name="momentum">μ in [0, 1); 0 (plain SGD) by default.</param>
    /// <param name="nesterov">Whether to use Nesterov momentum; needs <paramref name="momentum"/> &gt; 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="learningRate"/> is not finite and positive, or <paramref name="momentum"/> is outside [0, 1).</exception>
    /// <exception cref="ArgumentException"><paramref name="nesterov"/> is set while <paramref name="momentum"/> is 0.</exception>
    public Sgd(double learningRate, double momentum = 0, bool nesterov = false)
    {
        LearningRate = learningRate;
        if (!(momentum >= 0 && momentum < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), momentum,
                string.Create(CultureInfo.InvariantCulture, $"momentum must be in [0, 1), but it is {momentum}."));
        }

        if (nesterov && momentum == 0)
        {
            throw new ArgumentException("Nesterov momentum needs momentum > 0, but momentum is 0.", nameof(nesterov));
        }

        Momentum = momentum;
        Nesterov = nesterov;
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

    /// <summary>The momentum μ; 0 for plain SGD.</summary>
    public double Momentum { get; }

    /// <summary>Whether the momentum is Nesterov's.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc />
    public void Update<T>(Parameter<T> parameter)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameter);
        T[] w = parameter.ValueArray, g = parameter.GradientArray;
        T eta = T.CreateChecked(_learningRate);
        if (Momentum == 0)
        {
            // w ← w − η·g
            TensorPrimitives.MultiplyAdd(g, -eta, w, w);
            return;
        }

        T mu = T.CreateChecked(Momentum);
        if (!_velocities.TryGetValue(parameter, out object? state))
        {
            state = new T[w.Length];
            _velocities.Add(parameter, state);
        }

        var v = (T[])state;
        // v ← μ·v + g
        TensorPrimitives.MultiplyAdd(v, mu, g, v);
        if (Nesterov)
        {
            // w ← w − η·(g + μ·v) = w − η·g − η·μ·v
            TensorPrimitives.MultiplyAdd(g, -eta, w, w);
            TensorPrimitives.MultiplyAdd(v, -eta * mu, w, w);
        }
        else
        {
            TensorPrimitives.MultiplyAdd(v, -eta, w, w);
        }
    }

    /// <summary>Describes the optimizer.</summary>
    /// <returns>For example "SGD(η=0.1, μ=0.9, nesterov)".</returns>
    public override string ToString() => FormattableString.Invariant(
        $"SGD(η={LearningRate}{(Momentum > 0 ? $", μ={Momentum}" : "")}{(Nesterov ? ", nesterov" : "")})");
}
