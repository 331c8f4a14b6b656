using System.Globalization;

namespace Regression;

/// <summary>The command line: <c>--epochs N</c>, <c>--seed N</c>, <c>--help</c>.</summary>
internal sealed class Arguments
{
    public const string Usage = """
        usage: dotnet run --project samples/Regression -- [--epochs N] [--seed N]
          --epochs N    the most passes over the training data; early stopping may end sooner (default 500)
          --seed N      seed of the split, the weights and the shuffling (default 1)
        """;

    public int Epochs { get; private set; } = 500;

    public int Seed { get; private set; } = 1;

    public bool Help { get; private set; }

    /// <summary>Parses the arguments; throws <see cref="FormatException"/> with a readable message on a bad one.</summary>
    public static Arguments Parse(string[] args)
    {
        var result = new Arguments();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--epochs":
                    result.Epochs = PositiveInt(args, ref i);
                    break;
                case "--seed":
                    result.Seed = Int(args, ref i);
                    break;
                case "--help" or "-h":
                    result.Help = true;
                    break;
                default:
                    throw new FormatException($"unknown argument '{args[i]}'");
            }
        }

        return result;
    }

    private static string Value(string[] args, ref int i) =>
        ++i < args.Length ? args[i] : throw new FormatException($"{args[i - 1]} needs a value");

    private static int Int(string[] args, ref int i)
    {
        string text = Value(args, ref i);
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : throw new FormatException($"{args[i - 1]} needs a whole number, but got '{text}'");
    }

    private static int PositiveInt(string[] args, ref int i)
    {
        int value = Int(args, ref i);
        return value > 0 ? value : throw new FormatException($"{args[i - 1]} must be at least 1, but got {value}");
    }
}
