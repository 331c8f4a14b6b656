using System.Numerics;

namespace Backprop.Data;

/// <summary>
/// A sequence of training samples read from start to end, once per epoch, without holding them all in memory: what
/// <see cref="Trainer{T}.Fit(ISampleSource{T}, FitOptions?, ValidationData{T}?, CancellationToken)"/> trains from when
/// the data does not fit in memory.
/// </summary>
/// <remarks>
/// <para>The library provides <see cref="InMemorySampleSource{T}"/>, <see cref="CsvSampleSource{T}"/> and
/// <see cref="IdxSampleSource{T}"/>. To stream from anywhere else (a database, generated data, several files), implement
/// this interface and <see cref="ISampleReader{T}"/>: every call to <see cref="OpenReader"/> must start again from the
/// first sample, and should give the same samples in the same order, so that training is reproducible.</para>
/// <para>A sample is <see cref="InputSize"/> input values and <see cref="OutputSize"/> target values; when
/// <see cref="HasClasses"/> is true every target row is one-hot and the reader also reports each sample's class, from
/// which <c>Fit</c> measures the training accuracy.</para>
/// <para>Thread safety: <c>Fit</c> calls <see cref="OpenReader"/> on its training thread at the start of every epoch,
/// and runs that train at once may share a source, so <see cref="OpenReader"/> must be safe to call from several
/// threads at once and return readers that share no mutable state (the built-in sources do). Each reader is used by one
/// thread at a time.</para>
/// </remarks>
/// <typeparam name="T">The element type.</typeparam>
public interface ISampleSource<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>The name of the data in error messages, such as its file name.</summary>
    string Name { get; }

    /// <summary>The number of input values per sample: the network's input size.</summary>
    int InputSize { get; }

    /// <summary>The number of target values per sample: the network's output size.</summary>
    int OutputSize { get; }

    /// <summary>Whether every sample belongs to a class: its target row is one-hot (a 1 at its class, 0 elsewhere) and
    /// <see cref="ISampleReader{T}.Read"/> reports the class.</summary>
    bool HasClasses { get; }

    /// <summary>Opens a new reader positioned before the first sample; <c>Fit</c> opens one per epoch and disposes it
    /// once it has read the last sample, or when training stops.</summary>
    /// <returns>A forward-only reader that the caller must dispose.</returns>
    /// <exception cref="IOException">The data cannot be opened.</exception>
    /// <exception cref="InvalidDataException">The data is not in the expected format.</exception>
    ISampleReader<T> OpenReader();
}
