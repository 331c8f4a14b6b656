namespace Backprop;

/// <summary>Ready-made instances of the built-in activations, for short network definitions:
/// <c>new Dense&lt;float&gt;(128, Activations.ReLU)</c>.</summary>
/// <remarks>Thread safety: every instance is immutable and may be used by any number of layers, networks and threads at
/// once.</remarks>
public static class Activations
{
    /// <summary>f(z) = z. See <see cref="Backprop.Identity"/>.</summary>
    public static Identity Identity { get; } = new();

    /// <summary>f(z) = 1 / (1 + e^(−z)). See <see cref="Backprop.Sigmoid"/>.</summary>
    public static Sigmoid Sigmoid { get; } = new();

    /// <summary>f(z) = tanh(z). See <see cref="Backprop.Tanh"/>.</summary>
    public static Tanh Tanh { get; } = new();

    /// <summary>f(z) = max(0, z). See <see cref="Backprop.ReLU"/>.</summary>
    public static ReLU ReLU { get; } = new();

    /// <summary>f(z) = z for z &gt; 0, 0.01·z otherwise. See <see cref="Backprop.LeakyReLU"/>; construct one for another slope.</summary>
    public static LeakyReLU LeakyReLU { get; } = new();

    /// <summary>f(z) = z for z &gt; 0, e^z − 1 otherwise. See <see cref="Elu"/>; construct one for another α.</summary>
    public static Elu ELU { get; } = new();

    /// <summary>f(z) = ln(1 + e^z). See <see cref="Backprop.Softplus"/>.</summary>
    public static Softplus Softplus { get; } = new();

    /// <summary>f(z) = z·Φ(z). See <see cref="Gelu"/>.</summary>
    public static Gelu GELU { get; } = new();

    /// <summary>f(z) = z·σ(z). See <see cref="Silu"/>.</summary>
    public static Silu SiLU { get; } = new();

    /// <summary>aᵢ = e^(zᵢ) / Σⱼ e^(zⱼ), per sample. See <see cref="Backprop.Softmax"/>.</summary>
    public static Softmax Softmax { get; } = new();
}
