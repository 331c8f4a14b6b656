using System.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Backprop.Data;

/// <summary>A per-column transformation of features, fitted on training data and then applied unchanged to any data.</summary>
/// <remarks>
/// <para>Fit on the training part only and transform the validation and test parts with the same statistics;
/// fitting on all data leaks information about the test set into training.</para>
/// <para>Thread safety: the library never calls a scaler itself. Callers expect the built-in behaviour: once fitted,
/// <see cref="Transform{T}"/> and <see cref="InverseTransform{T}"/> only read the statistics and may run on any number
/// of threads at once, while <see cref="Fit{T}"/> replaces them and must run alone.</para>
/// </remarks>
public interface IFeatureScaler
{
    /// <summary>Whether <see cref="Fit{T}"/> has been called (or the statistics were given to the constructor).</summary>
    bool IsFitted { get; }

    /// <summary>The number of columns the scaler was fitted on; 0 before fitting.</summary>
    int FeatureCount { get; }

    /// <summary>Computes the per-column statistics of <paramref name="data"/>, replacing any earlier ones.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="data">The training samples, rows × features; at least one row, finite values.</param>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> has no rows or columns, or a value that is not finite.</exception>
    void Fit<T>(Matrix<T> data)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Applies the fitted transformation to every row.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="data">Samples, rows × <see cref="FeatureCount"/>.</param>
    /// <returns>A new matrix of the same shape.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> has a different number of columns from the fitted data.</exception>
    /// <exception cref="InvalidOperationException">The scaler has not been fitted.</exception>
    Matrix<T> Transform<T>(Matrix<T> data)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Undoes <see cref="Transform{T}"/>: maps scaled values back to the original units.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="data">Scaled samples, rows × <see cref="FeatureCount"/>.</param>
    /// <returns>A new matrix of the same shape.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> has a different number of columns from the fitted data.</exception>
    /// <exception cref="InvalidOperationException">The scaler has not been fitted.</exception>
    Matrix<T> InverseTransform<T>(Matrix<T> data)
        where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>Fits on <paramref name="data"/> and returns it transformed.</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="data">The training samples.</param>
    /// <returns>A new matrix of the same shape.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="data"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> has no rows or columns, or a value that is not finite.</exception>
    Matrix<T> FitTransform<T>(Matrix<T> data)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Fit(data);
        return Transform(data);
    }
}
