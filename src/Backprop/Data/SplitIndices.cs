namespace Backprop.Data;

/// <summary>Which rows of a data set go to training and which to testing: two disjoint sets of row indices, each in
/// ascending order, that together cover every row once.</summary>
/// <remarks>Thread safety: the record is immutable, but its arrays are not: share it between threads for reading only,
/// and change the data only while nothing else uses it.</remarks>
/// <param name="Train">The training rows, ascending.</param>
/// <param name="Test">The test rows, ascending.</param>
public sealed record SplitIndices(int[] Train, int[] Test);
