using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace Backprop.Tests.Data.Tables;

/// <summary>Ten thousand seeded mutants of small valid tables, plain and gzip, through <see cref="CsvTable"/>, a
/// <see cref="TablePipeline"/> fitted on what was read, and a <see cref="TablePredictor{T}"/> given the mutant's lines as
/// raw rows: each is read into a self-consistent table or refused with an exception these types document, in bounded
/// time and memory.</summary>
public class CsvTableFuzzTests(ITestOutputHelper output)
{
    private const int Mutants = 10_000;

    private sealed record Seed(string Text, TableOptions Options);

    private static readonly Seed[] Seeds =
    [
        new("species,island,bill,mass,sex\nA,Biscoe,39.1,3750,male\nB,Dream,,3800,\nA,Biscoe,40.3,NA,female\nC,Torgersen,36.7,3450,.\n",
            new TableOptions { Label = "species", MissingValues = ["NA", "?", "."], Missing = MissingValuePolicy.Median, Columns = [new ColumnOptions { Column = "sex", AddMissingIndicator = true }] }),
        new("\"size (cm)\",\"the \"\"kind\"\"\",w\n1.5,x,2\n2.5,y,3\n-1e3,x,?\n", new TableOptions { Label = "the \"kind\"", Missing = MissingValuePolicy.Mean }),
        new("a;b;t\r\n0.25;red;1\r\n-7;blue;0\r\n3;;2\r\n", new TableOptions { Delimiter = ';', Target = "t", Missing = MissingValuePolicy.MostFrequent }),
        new("1,p,3,x\n4,q,6,y\n7,p,9,x\n", new TableOptions { HasHeader = false, Label = -1, Columns = [new ColumnOptions { Column = 2, Kind = ColumnKind.Ignored }] }),
        new("k\tv\tn\nx\t1\t2\ny\t3\t4\n", new TableOptions { Delimiter = '\t', Label = 0, Columns = [new ColumnOptions { Column = "v", Kind = ColumnKind.Numeric }] }),
    ];

    private static readonly string[] Cells = ["", " ", "\"\"", "\"", "NA", "?", ".", "NaN", "1e309", "-0", "x", "1,5", "\"a\"\"b\"", "\"q\" z", "\u00A01", "\0", "١"];

    private static readonly string[] Insertions = [",", ";", "\t", "\"", "\r", "\n", "\r\n", "\uFEFF", " ", "\0", "x", ".", "NA"];

    [Fact]
    public void Ten_thousand_mutants_read_consistently_or_throw_the_documented_exceptions()
    {
        var random = new DeterministicRandom(2014);
        var outcomes = new Dictionary<string, int>();
        long worstAllocation = 0, worstTicks = 0, predicted = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < Mutants; i++)
        {
            var seed = FuzzMutations.Pick(random, Seeds);
            string text = seed.Text;
            for (int k = random.NextInt32(3); k >= 0; k--)
            {
                text = MutateText(text, seed.Options.Delimiter, random);
            }

            byte[] bytes = Encoding.UTF8.GetBytes(text);
            int damage = random.NextInt32(6);
            bytes = damage switch
            {
                0 => FuzzMutations.Bytes(bytes, random),
                1 => FuzzMutations.Gzip(bytes),
                2 => FuzzMutations.Bytes(FuzzMutations.Gzip(bytes), random),
                _ => bytes,
            };

            string context = $"mutant {i}: {Convert.ToBase64String(bytes)}";
            long before = GC.GetAllocatedBytesForCurrentThread();
            long started = Stopwatch.GetTimestamp();
            string kind;
            try
            {
                var table = CsvTable.Read(new MemoryStream(bytes), "mutant.csv", seed.Options);
                Check(table, seed.Options, context);
                var pipeline = TablePipeline.Fit(table, options: seed.Options);
                var x = pipeline.Transform<double>(table);
                x.RowCount.Should().Be(table.RowCount, context);
                x.ColumnCount.Should().Be(pipeline.FeatureCount, context);
                x.Enumerate().All(double.IsFinite).Should().BeTrue(context);
                if (table.Label is not null)
                {
                    pipeline.Labels(table).Should().OnlyContain(l => l >= 0 && l < pipeline.ClassNames.Count, context);
                }

                int outputs = Math.Max(1, pipeline.ClassNames.Count);
                var predictor = new TablePredictor<double>(new Network<double>(pipeline.FeatureCount, new Dense<double>(outputs, outputs > 1 ? Activations.Softmax : Activations.Identity)), pipeline);
                foreach (string line in text.Split('\n').Take(4))
                {
                    try
                    {
                        var prediction = predictor.Predict(line);
                        prediction.Values.Should().OnlyContain(v => double.IsFinite(v), context);
                        predicted++;
                    }
                    catch (ArgumentException e)
                    {
                        e.Message.Should().NotBeNullOrWhiteSpace(context);
                    }
                }

                kind = "read";
            }
            catch (Exception e) when (e is InvalidDataException or ArgumentException)
            {
                e.Message.Should().NotBeNullOrWhiteSpace(context);
                if (e is InvalidDataException)
                {
                    e.Message.Should().StartWith("mutant.csv", $"content errors name the source; {context}");
                }

                kind = e.GetType().Name;
            }

            worstTicks = Math.Max(worstTicks, Stopwatch.GetTimestamp() - started);
            worstAllocation = Math.Max(worstAllocation, GC.GetAllocatedBytesForCurrentThread() - before);
            outcomes[kind] = outcomes.GetValueOrDefault(kind) + 1;
        }

        output.WriteLine($"{Mutants} mutants in {clock.Elapsed.TotalSeconds:F2} s: {string.Join(", ", outcomes.OrderBy(o => o.Key))}; {predicted} raw rows predicted; " +
            $"slowest {Stopwatch.GetElapsedTime(0, worstTicks).TotalMilliseconds:F1} ms, most allocated {worstAllocation / 1024} KiB");
        outcomes.Values.Sum().Should().Be(Mutants);
        outcomes.GetValueOrDefault("read").Should().BeGreaterThan(1_000, "the mutants must also exercise the reading path");
        outcomes.GetValueOrDefault(nameof(InvalidDataException)).Should().BeGreaterThan(1_000);
        predicted.Should().BeGreaterThan(1_000);
        Stopwatch.GetElapsedTime(0, worstTicks).Should().BeLessThan(TimeSpan.FromSeconds(1));
        worstAllocation.Should().BeLessThan(4L << 20);
    }

    private static void Check(DataTable table, TableOptions options, string context)
    {
        table.RowCount.Should().BeGreaterThan(0, context);
        foreach (var column in table.Features)
        {
            column.Count.Should().Be(table.RowCount, context);
            column.Kind.Should().BeOneOf([ColumnKind.Numeric, ColumnKind.Categorical], context);
            if (column.Numbers is { } numbers)
            {
                numbers.Should().OnlyContain(v => double.IsFinite(v) || double.IsNaN(v), context);
            }
            else
            {
                column.Texts!.Should().OnlyContain(t => t == null || (t.Length > 0 && !options.MissingValues.Contains(t)), context);
            }

            if (column.Missing == MissingValuePolicy.Error)
            {
                column.MissingCount.Should().Be(0, context);
            }
        }

        if (table.Label is { } label)
        {
            label.Texts.Should().OnlyContain(t => t != null, context);
        }
    }

    private static string MutateText(string text, char delimiter, DeterministicRandom random)
    {
        var lines = text.Split('\n').ToList();
        int line = random.NextInt32(lines.Count);
        switch (random.NextInt32(5))
        {
            case 0:
            case 1:
                var cells = lines[line].Split(delimiter);
                cells[random.NextInt32(cells.Length)] = FuzzMutations.Pick(random, Cells);
                lines[line] = string.Join(delimiter, cells);
                return string.Join('\n', lines);
            case 2:
                int at = random.NextInt32(text.Length + 1);
                return text[..at] + FuzzMutations.Pick(random, Insertions) + text[at..];
            case 3:
                return random.NextInt32(3) switch
                {
                    0 => text.Replace("\n", "\r\n", StringComparison.Ordinal),
                    1 => text.Replace('\n', '\r'),
                    _ => string.Join(random.NextInt32(2) == 0 ? "\r" : "\r\n", lines[..(line + 1)]) + "\n" + string.Join('\n', lines[(line + 1)..]),
                };
            default:
                if (random.NextInt32(2) == 0)
                {
                    lines.Insert(line, lines[line]);
                }
                else
                {
                    lines.RemoveAt(line);
                }

                return string.Join('\n', lines);
        }
    }
}
