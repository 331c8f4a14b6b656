using System.Numerics;

namespace Backprop;

/// <summary>
/// An update rule that changes parameters from their gradients: step 4 of backpropagation.
/// </summary>
/// <remarks>
/// <para>The optimizer owns its state (velocities, moments), kept per <see cref="Parameter{T}"/> object, so one optimizer
/// serves one network. The trainer calls <see cref="Update{T}"/> once for every parameter after each backward pass.
/// The library's optimizers derive from <see cref="Optimizer"/>, which keeps that state in one place and lets it be
/// listed and restored exactly; implement this interface directly for a rule that needs none of that.</para>
/// <para>Thread safety: a trainer calls <see cref="Update{T}"/> on its training thread, one parameter after another,
/// and sets <see cref="LearningRate"/> there between epochs when a schedule is used; an implementation serves one
/// trainer and need not be thread-safe, but must not be shared by trainers that run at once.</para>
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

    /// <summary>Applies one step to <paramref name="parameter"/> from its <see cref="Parameter{T}.Gradients"/>.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="parameter">The parameter to change.</param>
    void Update<T>(Parameter<T> parameter)
        where T : unmanaged, IFloatingPointIeee754<T>;
}
