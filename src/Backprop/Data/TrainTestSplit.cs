namespace Backprop;

/// <summary>A data set split into a training part and a test part; deconstruct it with <c>var (train, test) = …</c>.</summary>
/// <typeparam name="TData">The data set type, such as <see cref="ClassificationData{T}"/>.</typeparam>
/// <param name="Train">The part to fit models (and scalers) on.</param>
/// <param name="Test">The held-out part to measure them on.</param>
public sealed record TrainTestSplit<TData>(TData Train, TData Test);
