namespace Backprop.Tests.Properties;

/// <summary>
/// The configuration every property of this folder runs with: a fixed number of cases and a fixed FsCheck replay seed,
/// so that every run (locally and in CI) checks the same cases and a failure reproduces exactly.
/// </summary>
/// <remarks>
/// To explore other cases, change <see cref="Replay"/> (any "(seed,gamma)" pair with an odd gamma) or remove it from a
/// property locally; FsCheck then prints the seed of the run, which can be pasted here to replay a failure. A failing
/// property reports the original and the shrunk case in the form of the cases' ToString.
/// </remarks>
internal static class PropertyConfig
{
    /// <summary>Cases per property.</summary>
    public const int MaxTest = 100;

    /// <summary>FsCheck's random seed and gamma.</summary>
    public const string Replay = "(15342281716417302837,7045139528913542149)";
}
