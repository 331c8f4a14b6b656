namespace Backprop.Tests.Reliability;

/// <summary>For tests that measure or load the whole process (its managed heap, all its cores, forced collections):
/// xunit runs them one at a time, after the tests that run in parallel, so that they neither disturb nor are disturbed.</summary>
[CollectionDefinition(nameof(RunsAlone), DisableParallelization = true)]
public sealed class RunsAlone;
