namespace Backprop.Tests;

public class SmokeTests
{
    [Fact]
    public void Builds() => MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.Dense(2, 2).RowCount.Should().Be(2);
}
