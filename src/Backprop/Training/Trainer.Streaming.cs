namespace Backprop;

/// <content>Training from an <see cref="ISampleSource{T}"/>: data read from files (or anywhere) epoch after epoch, never held whole in memory.</content>
public sealed partial class Trainer<T>
{
    /// <summary>Trains on samples read from a source once per epoch, for data that does not fit in memory, over
    /// mini-batches shuffled through a bounded buffer.</summary>
    /// <remarks>
    /// <para>Every epoch opens a new reader on the source, reads the samples in order, and disposes the reader at the
    /// end of the epoch or when training stops. A source of at most <see cref="FitOptions.ShuffleBufferSize"/> samples is
    /// held whole and trained exactly as the in-memory <c>Fit</c> trains on the same data, bit for bit (same order, same
    /// batches, same losses and accuracies); a larger one goes through a shuffle buffer of that many samples, as
    /// <see cref="FitOptions.ShuffleBufferSize"/> describes. Either way the order depends only on
    /// <see cref="FitOptions.Seed"/> and the epoch's number.</para>
    /// <para>Every sample is checked as it is read: its values must be finite, its targets in the loss's domain, and its
    /// class (when the source has classes) in [0, output size); a bad sample stops training with an exception naming the
    /// source and the sample's 0-based position in reading order, before any step uses it. The epoch's loss is the
    /// loss over the samples read (their number is not known in advance); the accuracy is measured when the source
    /// <see cref="ISampleSource{T}.HasClasses"/>.</para>
    /// <para>Validation data, when given, is held in memory and evaluated after every epoch.
    /// <see cref="FitOptions.ValidationFraction"/> must be 0: a stream cannot be split without reading it whole, so pass
    /// <paramref name="validation"/> instead (for example a held-out file read with <see cref="Csv"/>).</para>
    /// </remarks>
    /// <param name="source">The training samples; its input and output sizes must be the network's.</param>
    /// <param name="options">Epochs, batch size, shuffling and its buffer, seed, early stopping and clipping; the defaults of <see cref="FitOptions"/> when null.</param>
    /// <param name="validation">Held-out data evaluated after every epoch, or null.</param>
    /// <param name="cancellationToken">Stops training between two batches with <see cref="OperationCanceledException"/>; the network keeps the weights of the last finished step.</param>
    /// <returns>Every epoch's losses and accuracies, and how training ended.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentException">The source's sizes differ from the network's, it gives no samples, a sample has
    /// a value that is not finite, a target outside the loss's domain or a class out of range,
    /// <see cref="FitOptions.ValidationFraction"/> is not 0, <see cref="FitOptions.ClassWeights"/> is set, or the validation data is malformed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    /// <exception cref="InvalidDataException">The source's data is malformed (as its reader reports it).</exception>
    /// <exception cref="IOException">The source's data cannot be read.</exception>
    /// <exception cref="InvalidOperationException">The network is already being trained by another call, the
    /// learning-rate schedule gave a rate that is not finite and positive, the source's reader broke its contract, or an
    /// <see cref="EarlyStopping"/> monitors a metric the epochs do not record.</exception>
    /// <exception cref="TrainingDivergedException">The loss or a gradient became NaN or infinite; the weights are those before the failing step.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public TrainingHistory Fit(ISampleSource<T> source, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        options ??= new FitOptions();
        options.Validate();
        if (source.InputSize != Network.InputSize || source.OutputSize != Network.OutputSize)
        {
            throw new ArgumentException(
                $"source ({source.Name}) has {source.InputSize} inputs and {source.OutputSize} targets per sample, but the network takes {Network.InputSize} inputs and gives {Network.OutputSize} outputs.",
                nameof(source));
        }

        if (validation is null && options.ValidationFraction > 0)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"options.ValidationFraction is {options.ValidationFraction}, but a streamed source cannot be split without reading it whole; pass validation data (the validation argument) instead, and leave ValidationFraction at 0."),
                nameof(options));
        }

        if (options.ClassWeights is not null)
        {
            throw new ArgumentException($"options.ClassWeights is {options.ClassWeights}, but class weights apply to in-memory data only; train from matrices (Fit with labels), or weigh the source's samples yourself.", nameof(options));
        }

        var validationData = Data.FromValidation(validation);
        return new FitLoop<T>(this).Run(new ShuffleBufferFeeder<T>(source, Loss, options), validationData, options, cancellationToken);
    }

    /// <summary>Runs <see cref="Fit(ISampleSource{T}, FitOptions?, ValidationData{T}?, CancellationToken)"/> on the thread pool.</summary>
    /// <param name="source">The training samples.</param>
    /// <param name="options">The training settings; the defaults of <see cref="FitOptions"/> when null.</param>
    /// <param name="validation">Held-out data evaluated after every epoch, or null.</param>
    /// <param name="cancellationToken">Stops training between two batches.</param>
    /// <returns>A task whose result is the training history; it faults with the exceptions <c>Fit</c> documents.</returns>
    public Task<TrainingHistory> FitAsync(ISampleSource<T> source, FitOptions? options = null, ValidationData<T>? validation = null, CancellationToken cancellationToken = default) =>
        Task.Run(() => Fit(source, options, validation, cancellationToken), cancellationToken);
}
