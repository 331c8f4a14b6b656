using System.Globalization;
using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Tests.Properties;

/// <summary>
/// How a <c>Fit</c> call ended: with a history, or with the <see cref="TrainingDivergedException"/> it stops with when
/// a loss or gradient becomes non-finite (a sum-reduced loss with momentum can diverge on a few generated cases). A
/// divergence is an outcome like any other: it must happen at the same step in a repeated run, and the weights it leaves
/// (those before the failing step) must be the same too.
/// </summary>
internal sealed record FitOutcome(TrainingHistory? History, string Description)
{
    public bool Diverged => History is null;

    public static FitOutcome Of<T>(Trainer<T> trainer, Matrix<T> x, Matrix<T> y, FitOptions options)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        try
        {
            var history = trainer.Fit(x, y, options);
            return new FitOutcome(history, string.Create(CultureInfo.InvariantCulture,
                $"{history.EpochsCompleted} epoch(s), losses [{string.Join(", ", history.Loss.Select(l => l.ToString("R", CultureInfo.InvariantCulture)))}]"));
        }
        catch (TrainingDivergedException e)
        {
            return new FitOutcome(null, string.Create(CultureInfo.InvariantCulture,
                $"diverged in epoch {e.Epoch}, batch {e.Batch}, layer {e.LayerIndex} {e.Parameter} = {e.Value}"));
        }
    }

    public override string ToString() => Description;
}
