namespace Backprop.Data;

/// <summary>A data set split into a training part and a test part; deconstruct it with <c>var (train, test) = …</c>.</summary>
/// <remarks>Thread safety: the record itself is immutable; its parts are as safe to share as their type (the data
/// records: for reading only).</remarks>
/// <typeparam name="TData">The data set type, such as <see cref="ClassificationData{T}"/>.</typeparam>
/// <param name="Train">The part to fit models (and scalers) on.</param>
/// <param name="Test">The held-out part to measure them on.</param>
public sealed record TrainTestSplit<TData>(TData Train, TData Test);
