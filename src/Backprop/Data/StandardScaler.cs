using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Data;

/// <summary>Standardises each feature column to mean 0 and standard deviation 1: x′ = (x − μ) / σ, with μ and σ
/// measured on the training data.</summary>
/// <remarks>
/// <para>σ is the population standard deviation, σ = √(Σ (x − μ)² / n), computed in double whatever the element type.</para>
/// <para>A constant column (all its training values equal, so σ = 0) is only centred: it is divided by 1 instead of
/// 0 and becomes all zeros, never NaN or infinity. <see cref="StandardDeviations"/> reports its σ as 0.</para>
/// <para>The statistics can be read from <see cref="Means"/> and <see cref="StandardDeviations"/> and given back to
/// <see cref="StandardScaler(double[], double[])"/> to rebuild the same scaler, for example next to a saved model.</para>
/// <para>Thread safety: <see cref="Fit{T}"/> and <see cref="FitTransform{T}"/> replace the statistics and must not run
/// while anything else uses the scaler; once fitted (or made from statistics), <see cref="Transform{T}"/> and
/// <see cref="InverseTransform{T}"/> only read it and may be called from any number of threads at once.</para>
/// </remarks>
public sealed class StandardScaler : IFeatureScaler
{
    private double[] _means = [];
    private double[] _deviations = [];
    private double[] _factors = [];

    /// <summary>Creates an unfitted scaler; call <see cref="Fit{T}"/> on training data before transforming.</summary>
    public StandardScaler()
    {
    }

    /// <summary>Creates a fitted scaler from statistics computed earlier.</summary>
    /// <param name="means">The mean μ of each column.</param>
    /// <param name="standardDeviations">The standard deviation σ ≥ 0 of each column (0 for a constant column).</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">An array is empty, or their lengths differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value is not finite, or a standard deviation is negative.</exception>
    public StandardScaler(double[] means, double[] standardDeviations)
    {
        var mu = ScalerChecks.CheckStatistics(means, nameof(means), positive: false);
        var sigma = ScalerChecks.CheckStatistics(standardDeviations, nameof(standardDeviations), positive: true);
        if (mu.Length != sigma.Length)
        {
            throw new ArgumentException($"standardDeviations has {sigma.Length} values but means has {mu.Length}; both need one per feature.", nameof(standardDeviations));
        }

        Set(mu, sigma);
    }

    /// <inheritdoc />
    public bool IsFitted => _means.Length > 0;

    /// <inheritdoc />
    public int FeatureCount => _means.Length;

    /// <summary>The mean μ of each column of the training data; empty before fitting.</summary>
    public IReadOnlyList<double> Means => _means;

    /// <summary>The population standard deviation σ of each column of the training data (0 for a constant column); empty before fitting.</summary>
    public IReadOnlyList<double> StandardDeviations => _deviations;

    /// <inheritdoc />
    public void Fit<T>(Matrix<T> data)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double[] values = ScalerChecks.FitData(data, nameof(data));
        int rows = data.RowCount, width = data.ColumnCount;
        var means = new double[width];
        var deviations = new double[width];
        for (int c = 0; c < width; c++)
        {
            double sum = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
            for (int r = 0; r < rows; r++)
            {
                double v = values[r * width + c];
                sum += v;
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }

            double mean = sum / rows;
            double squares = 0;
            for (int r = 0; r < rows; r++)
            {
                double d = values[r * width + c] - mean;
                squares += d * d;
            }

            // A constant column can leave rounding noise in the mean; its σ is exactly 0 by definition.
            means[c] = min == max ? min : mean;
            deviations[c] = min == max ? 0 : Math.Sqrt(squares / rows);
        }

        Set(means, deviations);
    }

    /// <inheritdoc />
    /// <remarks>x′ = (x − μ) / σ per column, or x − μ where σ = 0.</remarks>
    public Matrix<T> Transform<T>(Matrix<T> data)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        ScalerChecks.Apply(data, nameof(StandardScaler), IsFitted, _means, _factors, new double[_means.Length], nameof(data));

    /// <inheritdoc />
    /// <remarks>x = x′ · σ + μ per column (x′ + μ where σ = 0).</remarks>
    public Matrix<T> InverseTransform<T>(Matrix<T> data)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // (x′ − 0) · σ + μ, with σ taken as 1 for a constant column as in Transform.
        var scale = Array.ConvertAll(_deviations, d => d > 0 ? d : 1);
        return ScalerChecks.Apply(data, nameof(StandardScaler), IsFitted, new double[_means.Length], scale, _means, nameof(data));
    }

    /// <inheritdoc />
    public Matrix<T> FitTransform<T>(Matrix<T> data)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Fit(data);
        return Transform(data);
    }

    private void Set(double[] means, double[] deviations)
    {
        _means = means;
        _deviations = deviations;
        _factors = Array.ConvertAll(deviations, d => d > 0 ? 1 / d : 1);
    }
}
