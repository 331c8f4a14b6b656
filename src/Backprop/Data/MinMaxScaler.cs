using System.Globalization;
using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Data;

/// <summary>Rescales each feature column linearly so that its training minimum maps to <see cref="Low"/> and its
/// training maximum to <see cref="High"/> ([0, 1] by default): x′ = Low + (x − min) · (High − Low) / (max − min).</summary>
/// <remarks>
/// <para>Values outside the training range map outside [Low, High]; they are not clipped.</para>
/// <para>A constant column (min = max) would divide by 0; it is mapped to <see cref="Low"/> instead
/// (x′ = Low + (x − min)), never to NaN or infinity.</para>
/// <para>The statistics can be read from <see cref="Minimums"/> and <see cref="Maximums"/> and given back to
/// <see cref="MinMaxScaler(double[], double[], double, double)"/> to rebuild the same scaler.</para>
/// <para>Thread safety: <see cref="Fit{T}"/> and <see cref="FitTransform{T}"/> replace the statistics and must not run
/// while anything else uses the scaler; once fitted (or made from statistics), <see cref="Transform{T}"/> and
/// <see cref="InverseTransform{T}"/> only read it and may be called from any number of threads at once.</para>
/// </remarks>
public sealed class MinMaxScaler : IFeatureScaler
{
    private double[] _minimums = [];
    private double[] _maximums = [];
    private double[] _factors = [];

    /// <summary>Creates an unfitted scaler to the range [<paramref name="low"/>, <paramref name="high"/>].</summary>
    /// <param name="low">What each column's training minimum maps to.</param>
    /// <param name="high">What each column's training maximum maps to; greater than <paramref name="low"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A bound is not finite, or <paramref name="high"/> is not greater than <paramref name="low"/>.</exception>
    public MinMaxScaler(double low = 0, double high = 1)
    {
        Guard.Finite(low, nameof(low));
        Guard.Finite(high, nameof(high));
        if (!(high > low))
        {
            throw new ArgumentOutOfRangeException(nameof(high), high,
                string.Create(CultureInfo.InvariantCulture, $"high must be greater than low ({low}), but it is {high}."));
        }

        Low = low;
        High = high;
    }

    /// <summary>Creates a fitted scaler from statistics computed earlier.</summary>
    /// <param name="minimums">The minimum of each column.</param>
    /// <param name="maximums">The maximum of each column, each at least its minimum.</param>
    /// <param name="low">What each minimum maps to.</param>
    /// <param name="high">What each maximum maps to; greater than <paramref name="low"/>.</param>
    /// <exception cref="ArgumentNullException">An array is null.</exception>
    /// <exception cref="ArgumentException">An array is empty, or their lengths differ.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A value is not finite, a maximum is below its minimum, or <paramref name="high"/> is not greater than <paramref name="low"/>.</exception>
    public MinMaxScaler(double[] minimums, double[] maximums, double low = 0, double high = 1)
        : this(low, high)
    {
        var min = ScalerChecks.CheckStatistics(minimums, nameof(minimums), positive: false);
        var max = ScalerChecks.CheckStatistics(maximums, nameof(maximums), positive: false);
        if (min.Length != max.Length)
        {
            throw new ArgumentException($"maximums has {max.Length} values but minimums has {min.Length}; both need one per feature.", nameof(maximums));
        }

        for (int i = 0; i < min.Length; i++)
        {
            if (max[i] < min[i])
            {
                throw new ArgumentOutOfRangeException(nameof(maximums), max[i],
                    string.Create(CultureInfo.InvariantCulture, $"maximums[{i}] must be at least minimums[{i}] ({min[i]}), but it is {max[i]}."));
            }
        }

        Set(min, max);
    }

    /// <summary>What each column's training minimum maps to.</summary>
    public double Low { get; }

    /// <summary>What each column's training maximum maps to.</summary>
    public double High { get; }

    /// <inheritdoc />
    public bool IsFitted => _minimums.Length > 0;

    /// <inheritdoc />
    public int FeatureCount => _minimums.Length;

    /// <summary>The minimum of each column of the training data; empty before fitting.</summary>
    public IReadOnlyList<double> Minimums => _minimums;

    /// <summary>The maximum of each column of the training data; empty before fitting.</summary>
    public IReadOnlyList<double> Maximums => _maximums;

    /// <inheritdoc />
    public void Fit<T>(Matrix<T> data)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        double[] values = ScalerChecks.FitData(data, nameof(data));
        int width = data.ColumnCount;
        var min = Enumerable.Repeat(double.PositiveInfinity, width).ToArray();
        var max = Enumerable.Repeat(double.NegativeInfinity, width).ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            int c = i % width;
            min[c] = Math.Min(min[c], values[i]);
            max[c] = Math.Max(max[c], values[i]);
        }

        Set(min, max);
    }

    /// <inheritdoc />
    /// <remarks>x′ = Low + (x − min) · (High − Low) / (max − min) per column; Low + (x − min) where min = max.</remarks>
    public Matrix<T> Transform<T>(Matrix<T> data)
        where T : unmanaged, IFloatingPointIeee754<T> =>
        ScalerChecks.Apply(data, nameof(MinMaxScaler), IsFitted, _minimums, _factors, Enumerable.Repeat(Low, _minimums.Length).ToArray(), nameof(data));

    /// <inheritdoc />
    /// <remarks>x = min + (x′ − Low) · (max − min) / (High − Low) per column; min + (x′ − Low) where min = max.</remarks>
    public Matrix<T> InverseTransform<T>(Matrix<T> data)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        // (x′ − Low) · (1 / factor) + min.
        var low = Enumerable.Repeat(Low, _minimums.Length).ToArray();
        return ScalerChecks.Apply(data, nameof(MinMaxScaler), IsFitted, low, Array.ConvertAll(_factors, f => 1 / f), _minimums, nameof(data));
    }

    /// <inheritdoc />
    public Matrix<T> FitTransform<T>(Matrix<T> data)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Fit(data);
        return Transform(data);
    }

    private void Set(double[] min, double[] max)
    {
        _minimums = min;
        _maximums = max;
        _factors = new double[min.Length];
        for (int c = 0; c < min.Length; c++)
        {
            _factors[c] = max[c] > min[c] ? (High - Low) / (max[c] - min[c]) : 1;
        }
    }
}
