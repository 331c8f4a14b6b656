using Backprop.Tests.Samples;
using PublicApiGenerator;

namespace Backprop.Tests.PublicApi;

/// <summary>
/// The public surface of the package, as text, against the approved snapshot beside this file: any change of a public
/// type or member fails here until the snapshot is updated, so that it shows in review.
/// </summary>
/// <remarks>To accept a deliberate change, copy <c>Backprop.received.txt</c> (written beside the snapshot when the
/// test fails) over <c>Backprop.approved.txt</c>, and list the change in CHANGELOG.md.</remarks>
public sealed class PublicApiTests
{
    [Fact]
    public void PublicApiMatchesTheApprovedSnapshot()
    {
        string actual = Normalize(typeof(Network<>).Assembly.GeneratePublicApi(new ApiGeneratorOptions
        {
            IncludeAssemblyAttributes = false,
        }));
        string folder = SourceFolder();
        string approvedPath = Path.Combine(folder, "Backprop.approved.txt");
        string receivedPath = Path.Combine(folder, "Backprop.received.txt");
        string approved = File.Exists(approvedPath) ? Normalize(File.ReadAllText(approvedPath)) : string.Empty;
        if (actual != approved)
        {
            File.WriteAllText(receivedPath, actual);
            var approvedLines = approved.Split('\n');
            var actualLines = actual.Split('\n');
            var removed = approvedLines.Except(actualLines).Take(20);
            var added = actualLines.Except(approvedLines).Take(20);
            Assert.Fail(
                $"The public API changed. Review {receivedPath}; if the change is meant, copy it over {approvedPath} and list it in CHANGELOG.md.\n" +
                $"Removed (first 20):\n  {string.Join("\n  ", removed)}\nAdded (first 20):\n  {string.Join("\n  ", added)}");
        }

        if (File.Exists(receivedPath))
        {
            File.Delete(receivedPath);
        }
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal).TrimEnd() + "\n";

    // From the repository (found above the test binaries), not from [CallerFilePath]: a CI build maps source paths to /_/.
    private static string SourceFolder() => Path.Combine(SamplesRunTests.RepositoryRoot(), "tests", "Backprop.Tests", "PublicApi");
}
