using System.Numerics;

namespace Backprop;

/// <summary>Fills a layer's weights with their initial values, drawing from a generator the caller seeds.</summary>
/// <remarks>
/// <para>Implementations must draw only from <c>random</c>, so that the same seed always gives the same network.</para>
/// <para>Thread safety: a network's constructor (and so loading a model) calls <see cref="Initialize{T}"/> on the
/// constructing thread with that network's own generator, and one instance (such as
/// <see cref="Initializers.GlorotUniform"/>) serves every network created with it, possibly on several threads at once:
/// implementations must keep no mutable state.</para>
/// </remarks>
public interface IInitializer : ISerializableComponent
{
    /// <summary>The name model files store the initializer under: <see cref="Name"/> unless an implementation says otherwise.</summary>
    string ISerializableComponent.TypeName => Name;

    /// <summary>Writes the initializer's settings; none unless an implementation has some.</summary>
    /// <param name="settings">Receives the settings.</param>
    void ISerializableComponent.WriteSettings(ComponentSettings settings)
    {
    }

    /// <summary>The initializer's name, as written in model files and reports.</summary>
    string Name { get; }

    /// <summary>Fills <paramref name="weights"/> with initial values.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="weights">The weights to fill: fanIn × fanOut values.</param>
    /// <param name="fanIn">The number of inputs of each unit.</param>
    /// <param name="fanOut">The number of units.</param>
    /// <param name="random">The seeded source of randomness.</param>
    void Initialize<T>(Span<T> weights, int fanIn, int fanOut, DeterministicRandom random)
        where T : unmanaged, IFloatingPointIeee754<T>;
}

/// <summary>Uniform initialisation on [−limit, limit]; the limit is chosen by the derived class.</summary>
/// <remarks>Thread safety: <see cref="Initialize{T}"/> keeps no state and may run on several threads at once, each call
/// with its own generator; a derived class's <see cref="Limit"/> must be free of mutable state too.</remarks>
public abstract class UniformInitializerBase : IInitializer
{
    /// <inheritdoc />
    public abstract string Name { get; }

    /// <summary>The half-width of the interval for the given fans.</summary>
    /// <param name="fanIn">The number of inputs of each unit.</param>
    /// <param name="fanOut">The number of units.</param>
    /// <returns>The limit a of U(−a, a).</returns>
    protected abstract double Limit(int fanIn, int fanOut);

    /// <inheritdoc />
    public void Initialize<T>(Span<T> weights, int fanIn, int fanOut, DeterministicRandom random)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(random);
        double limit = Limit(fanIn, fanOut);
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = T.CreateChecked((2 * random.NextDouble() - 1) * limit);
        }
    }
}

/// <summary>Glorot (Xavier) uniform: U(−a, a) with a = √(6 / (fanIn + fanOut)). The default, suited to tanh, sigmoid and softmax.</summary>
/// <remarks>
/// <para>Glorot and Bengio, "Understanding the difficulty of training deep feedforward neural networks", AISTATS 2010.</para>
/// <para>Thread safety: immutable: one instance may initialise any number of networks, on several threads at once; each
/// network draws from its own seeded generator.</para>
/// </remarks>
public sealed class GlorotUniform : UniformInitializerBase
{
    /// <inheritdoc />
    public override string Name => "glorot_uniform";

    /// <inheritdoc />
    protected override double Limit(int fanIn, int fanOut) => Math.Sqrt(6.0 / (fanIn + fanOut));
}

/// <summary>He (Kaiming) uniform: U(−a, a) with a = √(6 / fanIn), suited to ReLU and its relatives.</summary>
/// <remarks>
/// <para>He, Zhang, Ren and Sun, "Delving deep into rectifiers", ICCV 2015.</para>
/// <para>Thread safety: immutable: one instance may initialise any number of networks, on several threads at once; each
/// network draws from its own seeded generator.</para>
/// </remarks>
public sealed class HeUniform : UniformInitializerBase
{
    /// <inheritdoc />
    public override string Name => "he_uniform";

    /// <inheritdoc />
    protected override double Limit(int fanIn, int fanOut) => Math.Sqrt(6.0 / fanIn);
}

/// <summary>He (Kaiming) normal: N(0, σ²) with σ = √(2 / fanIn), suited to ReLU and its relatives.</summary>
/// <remarks>
/// <para>He, Zhang, Ren and Sun, "Delving deep into rectifiers", ICCV 2015. Not truncated.</para>
/// <para>Thread safety: immutable: one instance may initialise any number of networks, on several threads at once; each
/// network draws from its own seeded generator.</para>
/// </remarks>
public sealed class HeNormal : IInitializer
{
    /// <inheritdoc />
    public string Name => "he_normal";

    /// <inheritdoc />
    public void Initialize<T>(Span<T> weights, int fanIn, int fanOut, DeterministicRandom random)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(random);
        double sigma = Math.Sqrt(2.0 / fanIn);
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = T.CreateChecked(sigma * random.NextGaussian());
        }
    }
}

/// <summary>Plain uniform initialisation on [−limit, limit], whatever the fans.</summary>
/// <remarks>Thread safety: immutable: one instance may initialise any number of networks, on several threads at once;
/// each network draws from its own seeded generator.</remarks>
public sealed class UniformInitializer : UniformInitializerBase, ISerializableComponent
{

    /// <summary>Creates the initializer.</summary>
    /// <param name="limit">The half-width a of U(−a, a); finite and greater than 0.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is not a finite positive number.</exception>
    public UniformInitializer(double limit)
    {
        Guard.PositiveFinite(limit, nameof(limit));
        HalfWidth = limit;
    }

    /// <summary>The half-width a of U(−a, a).</summary>
    public double HalfWidth { get; }

    /// <inheritdoc />
    public override string Name => "uniform";

    /// <summary>Writes the half-width as "limit".</summary>
    /// <param name="settings">Receives the settings.</param>
    void ISerializableComponent.WriteSettings(ComponentSettings settings) => settings.Set("limit", HalfWidth);

    /// <inheritdoc />
    protected override double Limit(int fanIn, int fanOut) => HalfWidth;
}

/// <summary>Ready-made initializers: <c>new Dense&lt;float&gt;(128, Activations.ReLU, Initializers.HeNormal)</c>.</summary>
/// <remarks>Thread safety: the instances are immutable and may be shared by any number of networks and
/// threads.</remarks>
public static class Initializers
{
    /// <summary>U(−a, a), a = √(6 / (fanIn + fanOut)): the default.</summary>
    public static GlorotUniform GlorotUniform { get; } = new();

    /// <summary>U(−a, a), a = √(6 / fanIn).</summary>
    public static HeUniform HeUniform { get; } = new();

    /// <summary>N(0, 2 / fanIn).</summary>
    public static HeNormal HeNormal { get; } = new();

    /// <summary>U(−limit, limit).</summary>
    /// <param name="limit">The half-width of the interval.</param>
    /// <returns>A new initializer.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is not a finite positive number.</exception>
    public static UniformInitializer Uniform(double limit) => new(limit);
}
