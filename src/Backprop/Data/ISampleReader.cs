using System.Numerics;

namespace Backprop.Data;

/// <summary>A forward-only cursor over the samples of an <see cref="ISampleSource{T}"/>, which fills the caller's
/// buffers with the next samples. Disposing it releases what it holds open (files).</summary>
/// <remarks>Thread safety: a reader is used by one thread at a time: <c>Fit</c> reads and disposes it on its training
/// thread. Implementations need not be thread-safe, but readers of one source must not share mutable state.</remarks>
/// <typeparam name="T">The element type.</typeparam>
public interface ISampleReader<T> : IDisposable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Reads the next samples: at most <c>inputs.Length / InputSize</c> of them.</summary>
    /// <param name="inputs">Receives the samples' inputs, one row of <see cref="ISampleSource{T}.InputSize"/> values after
    /// another; its length is a whole number of rows, at least one.</param>
    /// <param name="targets">Receives their target rows of <see cref="ISampleSource{T}.OutputSize"/> values: as many rows as
    /// <paramref name="inputs"/> has room for.</param>
    /// <param name="classes">Receives each sample's class when the source <see cref="ISampleSource{T}.HasClasses"/>; empty
    /// when the caller does not need them, else as many entries as <paramref name="inputs"/> has rows.</param>
    /// <returns>The number of samples read, from 1 to the rows there is room for, or 0 once every sample has been read
    /// (and on every later call). Fewer than there is room for does not mean the end.</returns>
    /// <exception cref="ArgumentException">The spans are not whole rows, or disagree in rows.</exception>
    /// <exception cref="InvalidDataException">The data is malformed; the message names the source and the line or record.</exception>
    /// <exception cref="ObjectDisposedException">The reader is disposed.</exception>
    int Read(Span<T> inputs, Span<T> targets, Span<int> classes);
}
