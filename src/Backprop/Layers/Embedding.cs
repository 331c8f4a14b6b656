using System.Globalization;
using System.Numerics;
using System.Numerics.Tensors;

namespace Backprop;

/// <summary>
/// An embedding layer: maps integer ids, stored as values of the input row, to learned vectors, one lookup table of
/// vocabulary × width per group of id columns; the input's other columns, if any, pass through unchanged after the
/// vectors, as tabular models (fastai's, or Keras's embeddings concatenated with the numeric inputs) feed a dense stack.
/// </summary>
/// <remarks>
/// <para>Forward, for a sample x: every id column c (in increasing column order), mapped by table t with vocabulary V
/// and width W, contributes the row E_t[x_c] (W values) of the table E_t (V × W); the output is these rows one after
/// the other, followed by the columns that no table maps, in their input order:
/// a = [E_t(c₀)[x_c₀], E_t(c₁)[x_c₁], …, x_p₀, x_p₁, …]. When one table maps every column of the input
/// (<see cref="Embedding{T}(int, int, IInitializer?)"/>), the output has the input's shape with a last dimension W
/// added (a sequence of n ids gives n × W, as PyTorch's and Keras's Embedding); otherwise it is a flat vector.</para>
/// <para>Each id must be an integer in [0, V): anything else (a fraction, a negative number, V or more, NaN or an
/// infinity) throws <see cref="ArgumentException"/> naming the row of the batch, the column and the value, in training
/// and at prediction alike (<see cref="Network{T}.Predict(MathNet.Numerics.LinearAlgebra.Matrix{T})"/> names the row of
/// its input).</para>
/// <para>Backward, from δ = ∂L/∂a (the layer has no activation): ∂L/∂E_t[v] = Σ over the rows r and id columns c of
/// table t with x_rc = v of δ_r[c's slice] — a scatter-add, summed row by row and column by column in that fixed order,
/// so that results are bit-identical at any thread count. Ids are not differentiable: ∂L/∂x is 0 at the id columns,
/// and δ at the pass-through columns.</para>
/// <para>Tables are initialised as Keras does, uniformly in [−0.05, 0.05] (<see cref="Initializers.Uniform"/>), unless
/// another initializer is given. They are not regularised.</para>
/// <para>ONNX: per run of id columns that share a table, Gather (the columns) → Cast to int64 → Gather (the table
/// rows) → Flatten, then Concat with a Gather of the pass-through columns: the flat [N, size] output.</para>
/// <para>Thread safety: inference only reads the tables and may run on any number of threads at once; training writes
/// the gradients and the tables, so nothing else may use the layer meanwhile.</para>
/// </remarks>
/// <typeparam name="T">The element type: <see cref="float"/> or <see cref="double"/>.</typeparam>
public sealed class Embedding<T> : Layer<T>, ISerializableComponent, IOnnxExportable
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly EmbeddingTable[] _tables;
    private readonly IInitializer _initializer;
    private Parameter<T>[] _tableParameters = [];

    // Per id column, in increasing column order: its input column, its table, and where its vector starts in the output.
    private int[] _idColumns = [];
    private int[] _idTables = [];
    private int[] _idOffsets = [];

    // The columns no table maps, in input order; they follow the vectors, from _passOffset on.
    private int[] _passColumns = [];
    private int _passOffset;

    /// <summary>Creates an embedding of every column of the input through one shared table: a sample of n ids becomes
    /// n vectors of <paramref name="width"/> values (output shape: the input's, with <paramref name="width"/> appended).</summary>
    /// <param name="vocabularySize">The number of ids V: valid ids are 0 … V − 1; at least 1.</param>
    /// <param name="width">The length of each vector; at least 1.</param>
    /// <param name="initializer">How to draw the initial table; uniform in [−0.05, 0.05] (as Keras) when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="vocabularySize"/> or <paramref name="width"/> is less than 1.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public Embedding(int vocabularySize, int width, IInitializer? initializer = null)
        : this([EmbeddingTable.EveryColumn(vocabularySize, width)], initializer)
    {
    }

    /// <summary>Creates an embedding of some columns of the input, each id column mapped to a vector of
    /// <paramref name="width"/> values; the other columns pass through after the vectors.</summary>
    /// <param name="vocabularySize">The number of ids V of each table: valid ids are 0 … V − 1; at least 1.</param>
    /// <param name="width">The length of each vector; at least 1.</param>
    /// <param name="columns">The id columns (flat indices into the input sample): at least one, none negative, none twice.</param>
    /// <param name="shared">True for one table shared by all the columns (the same id gives the same vector in every
    /// column); false for a table of its own per column.</param>
    /// <param name="initializer">How to draw the initial tables; uniform in [−0.05, 0.05] (as Keras) when null.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="vocabularySize"/> or <paramref name="width"/> is less than 1.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="columns"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="columns"/> is empty, or holds a negative column or a column twice.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public Embedding(int vocabularySize, int width, IReadOnlyList<int> columns, bool shared = true, IInitializer? initializer = null)
        : this(TablesFor(vocabularySize, width, columns, shared), initializer)
    {
    }

    /// <summary>Creates an embedding through tables of their own sizes, each mapping its own id columns (for example
    /// one table per categorical feature, as tabular models have); the columns no table maps pass through after the vectors.</summary>
    /// <param name="tables">The tables, at least one; no column may belong to two tables.</param>
    /// <param name="initializer">How to draw the initial tables; uniform in [−0.05, 0.05] (as Keras) when null.</param>
    /// <exception cref="ArgumentNullException"><paramref name="tables"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="tables"/> is empty, holds null, or two tables map the same column.</exception>
    /// <exception cref="NotSupportedException"><typeparamref name="T"/> is neither float nor double.</exception>
    public Embedding(IReadOnlyList<EmbeddingTable> tables, IInitializer? initializer = null)
    {
        ArgumentNullException.ThrowIfNull(tables);
        if (tables.Count == 0)
        {
            throw new ArgumentException("tables must hold at least one table, but it is empty.", nameof(tables));
        }

        var seen = new Dictionary<int, int>();
        for (int t = 0; t < tables.Count; t++)
        {
            var table = tables[t] ?? throw new ArgumentException($"tables[{t}] is null; every table must be an object.", nameof(tables));
            if (table.MapsEveryColumn && tables.Count > 1)
            {
                throw new ArgumentException($"tables[{t}] maps every column, so it must be the only table, but there are {tables.Count}.", nameof(tables));
            }

            foreach (int column in table.Columns)
            {
                if (!seen.TryAdd(column, t))
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"Column {column} is mapped by tables[{seen[column]}] and tables[{t}]; each column belongs to one table at most."), nameof(tables));
                }
            }
        }

        _tables = [.. tables];
        _initializer = initializer ?? Initializers.Uniform(0.05);
    }

    /// <summary>The lookup tables, as given.</summary>
    public IReadOnlyList<EmbeddingTable> Tables => _tables;

    /// <summary>The initializer that drew the initial tables.</summary>
    public IInitializer Initializer => _initializer;

    /// <summary>"none": the backward pass reads the ids from the input.</summary>
    public override string SavedForBackwardName => "none";

    /// <summary>0: nothing is kept.</summary>
    public override int SavedForBackwardSize => 0;

    /// <summary>One value per output element: a lookup copies it.</summary>
    public override long FlopsPerSample => OutputSize;

    /// <summary>"embedding", the name model files store the layer under.</summary>
    public string TypeName => "embedding";

    /// <summary>The table E_t, <see cref="EmbeddingTable.VocabularySize"/> × <see cref="EmbeddingTable.Width"/>,
    /// row-major: row v is the vector of id v. Live storage.</summary>
    /// <param name="table">The table's index in <see cref="Tables"/>.</param>
    /// <returns>The parameter named "table" and the index, for example "table0".</returns>
    /// <exception cref="InvalidOperationException">The layer is not built yet.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="table"/> is not an index of <see cref="Tables"/>.</exception>
    public Parameter<T> GetTable(int table)
    {
        EnsureBuilt();
        ArgumentOutOfRangeException.ThrowIfNegative(table);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(table, _tables.Length);
        return _tableParameters[table];
    }

    /// <summary>Writes the tables' vocabulary sizes, widths and columns, and the initializer.</summary>
    /// <param name="settings">Receives "vocabulary_sizes", "widths", "column_counts" (0 for a table of every column),
    /// "columns" (all tables' columns, one table after the other) and "initializer".</param>
    /// <exception cref="NotSupportedException">The initializer cannot be saved.</exception>
    public void WriteSettings(ComponentSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings
            .Set("vocabulary_sizes", _tables.Select(t => (long)t.VocabularySize).ToArray())
            .Set("widths", _tables.Select(t => (long)t.Width).ToArray())
            .Set("column_counts", _tables.Select(t => (long)t.Columns.Count).ToArray())
            .Set("columns", _tables.SelectMany(t => t.Columns).Select(c => (long)c).ToArray())
            .Set("initializer", _initializer);
    }

    /// <summary>Recreates a layer from what <see cref="WriteSettings"/> wrote.</summary>
    internal static Embedding<T> FromSettings(ComponentSettings settings)
    {
        long[] vocabularies = settings.GetInt64s("vocabulary_sizes"), widths = settings.GetInt64s("widths");
        long[] counts = settings.GetInt64s("column_counts"), columns = settings.GetInt64s("columns");
        if (widths.Length != vocabularies.Length || counts.Length != vocabularies.Length || counts.Any(c => c < 0) || counts.Sum() != columns.Length)
        {
            throw new ArgumentException("The embedding settings do not agree: one width and one column count per vocabulary size, and as many columns as the counts add up to.", nameof(settings));
        }

        var initializer = settings.GetInitializer("initializer");
        if (vocabularies.Length == 1 && counts[0] == 0)
        {
            return new Embedding<T>(ToInt32(vocabularies[0]), ToInt32(widths[0]), initializer);
        }

        var tables = new EmbeddingTable[vocabularies.Length];
        int at = 0;
        for (int t = 0; t < tables.Length; t++)
        {
            tables[t] = new EmbeddingTable(ToInt32(vocabularies[t]), ToInt32(widths[t]), columns.Skip(at).Take((int)counts[t]).Select(ToInt32).ToArray());
            at += (int)counts[t];
        }

        return new Embedding<T>(tables, initializer);
    }

    /// <summary>Describes the layer.</summary>
    /// <returns>For example "Embedding(1000×16 for every column)".</returns>
    public override string ToString() => $"Embedding({string.Join("; ", _tables.Select(t => t.ToString()))})";

    /// <inheritdoc />
    /// <remarks>One parameter "table0", "table1", … of V × W per table, drawn by the initializer with fan-in V and
    /// fan-out W. Any input shape is read as a flat row of its size; every mapped column must be inside it.</remarks>
    protected override TensorShape OnBuild(TensorShape inputShape, DeterministicRandom random)
    {
        int n = inputShape.Size;
        var tableOf = new int[n];
        Array.Fill(tableOf, -1);
        for (int t = 0; t < _tables.Length; t++)
        {
            var table = _tables[t];
            if (table.MapsEveryColumn)
            {
                Array.Fill(tableOf, t);
            }

            foreach (int column in table.Columns)
            {
                if (column >= n)
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                        $"table {t} maps column {column}, but the input has only {n} columns (0 … {n - 1}, its shape {inputShape} read flat)."), nameof(inputShape));
                }

                tableOf[column] = t;
            }
        }

        var idColumns = new List<int>();
        var passColumns = new List<int>();
        for (int c = 0; c < n; c++)
        {
            (tableOf[c] >= 0 ? idColumns : passColumns).Add(c);
        }

        _idColumns = [.. idColumns];
        _idTables = idColumns.Select(c => tableOf[c]).ToArray();
        _idOffsets = new int[_idColumns.Length];
        long offset = 0;
        for (int j = 0; j < _idColumns.Length; j++)
        {
            _idOffsets[j] = (int)offset;
            offset += _tables[_idTables[j]].Width;
        }

        _passColumns = [.. passColumns];
        long outputSize = offset + _passColumns.Length;
        if (outputSize > int.MaxValue)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"The output would hold {outputSize} values per sample, more than {int.MaxValue}."), nameof(inputShape));
        }

        _passOffset = (int)offset;
        _tableParameters = new Parameter<T>[_tables.Length];
        for (int t = 0; t < _tables.Length; t++)
        {
            var table = _tables[t];
            _tableParameters[t] = AddParameter(string.Create(CultureInfo.InvariantCulture, $"table{t}"),
                new TensorShape(table.VocabularySize, table.Width), _initializer, isRegularized: false, fanIn: table.VocabularySize, fanOut: table.Width);
        }

        if (_tables.Length == 1 && _tables[0].MapsEveryColumn)
        {
            return new TensorShape([.. inputShape.Dimensions, _tables[0].Width]);
        }

        return new TensorShape((int)outputSize);
    }

    /// <inheritdoc />
    protected override void OnForward(ReadOnlySpan<T> inputs, Span<T> saved, Span<T> activations, int rows, bool training)
    {
        int n = InputSize, width = OutputSize;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<T> x = inputs.Slice(r * n, n);
            Span<T> a = activations.Slice(r * width, width);
            for (int j = 0; j < _idColumns.Length; j++)
            {
                int t = _idTables[j], w = _tables[t].Width;
                int id = Id(x, r, j);
                _tableParameters[t].ValueArray.AsSpan(id * w, w).CopyTo(a.Slice(_idOffsets[j], w));
            }

            for (int p = 0; p < _passColumns.Length; p++)
            {
                a[_passOffset + p] = x[_passColumns[p]];
            }
        }
    }

    /// <inheritdoc />
    protected override void OnComputeLocalGradients(ReadOnlySpan<T> saved, ReadOnlySpan<T> activations, ReadOnlySpan<T> outputGradients, Span<T> localGradients, int rows) =>
        // No activation: δ = ∂L/∂a.
        outputGradients.CopyTo(localGradients);

    /// <inheritdoc />
    protected override void OnBackpropagate(ReadOnlySpan<T> inputs, ReadOnlySpan<T> localGradients, Span<T> inputGradients, int rows)
    {
        int n = InputSize, width = OutputSize;
        foreach (var table in _tableParameters)
        {
            Array.Clear(table.GradientArray);
        }

        // ∂L/∂E_t[id] += δ_r's slice of the column, row by row, column by column: one fixed order of the sums.
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<T> x = inputs.Slice(r * n, n);
            ReadOnlySpan<T> delta = localGradients.Slice(r * width, width);
            for (int j = 0; j < _idColumns.Length; j++)
            {
                int t = _idTables[j], w = _tables[t].Width;
                int id = Id(x, r, j);
                Span<T> gradient = _tableParameters[t].GradientArray.AsSpan(id * w, w);
                TensorPrimitives.Add(gradient, delta.Slice(_idOffsets[j], w), gradient);
            }
        }

        if (!inputGradients.IsEmpty)
        {
            // Ids are not differentiable: 0 there; the pass-through columns receive their δ.
            inputGradients.Clear();
            for (int r = 0; r < rows; r++)
            {
                for (int p = 0; p < _passColumns.Length; p++)
                {
                    inputGradients[r * n + _passColumns[p]] = localGradients[r * width + _passOffset + p];
                }
            }
        }
    }

    // The id in row r's id column j, checked: an integer in [0, V) of the column's table.
    private int Id(ReadOnlySpan<T> x, int row, int j)
    {
        int column = _idColumns[j], table = _idTables[j];
        int vocabulary = _tables[table].VocabularySize;
        T value = x[column];
        if (!T.IsInteger(value) || value < T.Zero || value >= T.CreateTruncating(vocabulary))
        {
            throw new InvalidIdException(row, column, Network<T>.Format(value), table, vocabulary);
        }

        return int.CreateTruncating(value);
    }

    /// <summary>Adds the layer to an ONNX graph: per run of consecutive id columns of one table, Gather of the columns
    /// (unless the table maps every column), Cast to int64, Gather of the table's rows and Flatten to [N, k·W]; a Gather
    /// of the pass-through columns; and Concat of the pieces along axis 1.</summary>
    /// <param name="graph">The graph being built.</param>
    /// <param name="input">The name of the input value.</param>
    /// <returns>The name of the output value.</returns>
    string IOnnxExportable.ExportOnnx(OnnxGraph graph, string input)
    {
        ArgumentNullException.ThrowIfNull(graph);
        EnsureBuilt();
        var tableNames = new string?[_tables.Length];
        var pieces = new List<string>();
        int piece = 0;
        for (int start = 0; start < _idColumns.Length;)
        {
            int t = _idTables[start], end = start + 1;
            while (end < _idColumns.Length && _idTables[end] == t)
            {
                end++;
            }

            tableNames[t] ??= graph.AddInitializer<T>(string.Create(CultureInfo.InvariantCulture, $"table{t}"), _tableParameters[t].Shape, _tableParameters[t].ValueArray);
            string ids = _tables[t].MapsEveryColumn ? input : GatherColumns(graph, input, _idColumns.AsSpan(start, end - start), piece);
            string local = string.Create(CultureInfo.InvariantCulture, $"piece{piece}");
            string indices = graph.Name(local + ".ids");
            graph.AddNode("Cast", graph.Name(local + ".cast"), [ids], indices, OnnxAttribute.Int("to", OnnxDataTypeInt64));
            string vectors = graph.Name(local + ".vectors");
            graph.AddNode("Gather", graph.Name(local + ".lookup"), [tableNames[t]!, indices], vectors, OnnxAttribute.Int("axis", 0));
            string flat = graph.Name(local + ".flat");
            graph.AddNode("Flatten", graph.Name(local + ".flatten"), [vectors], flat, OnnxAttribute.Int("axis", 1));
            pieces.Add(flat);
            piece++;
            start = end;
        }

        if (_passColumns.Length > 0)
        {
            pieces.Add(GatherColumns(graph, input, _passColumns, piece));
        }

        if (pieces.Count == 1)
        {
            return pieces[0];
        }

        string output = graph.Name("output");
        graph.AddNode("Concat", graph.Name("concat"), pieces, output, OnnxAttribute.Int("axis", 1));
        return output;
    }

    // ONNX TensorProto.DataType INT64.
    private const int OnnxDataTypeInt64 = 7;

    // Gather(input, columns, axis 1): the index tensor is stored as float (the graph's initializers are float) and cast
    // to int64 in the graph; column indices are exact in float32 below 2²⁴.
    private static string GatherColumns(OnnxGraph graph, string input, ReadOnlySpan<int> columns, int piece)
    {
        string local = string.Create(CultureInfo.InvariantCulture, $"piece{piece}");
        var values = new float[columns.Length];
        for (int i = 0; i < columns.Length; i++)
        {
            values[i] = columns[i];
        }

        string stored = graph.AddInitializer<float>(local + ".columns", new TensorShape(columns.Length), values);
        string indices = graph.Name(local + ".column_indices");
        graph.AddNode("Cast", graph.Name(local + ".cast_columns"), [stored], indices, OnnxAttribute.Int("to", OnnxDataTypeInt64));
        string gathered = graph.Name(local + ".gathered");
        graph.AddNode("Gather", graph.Name(local + ".gather_columns"), [input, indices], gathered, OnnxAttribute.Int("axis", 1));
        return gathered;
    }

    private static EmbeddingTable[] TablesFor(int vocabularySize, int width, IReadOnlyList<int> columns, bool shared)
    {
        ArgumentNullException.ThrowIfNull(columns);
        int[] all = [.. columns];
        return shared
            ? [new EmbeddingTable(vocabularySize, width, all)]
            : all.Length == 0
                ? [new EmbeddingTable(vocabularySize, width, all)]
                : all.Select(c => new EmbeddingTable(vocabularySize, width, c)).ToArray();
    }

    private static int ToInt32(long value) => value is >= int.MinValue and <= int.MaxValue
        ? (int)value
        : throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The embedding setting {value} does not fit in a 32-bit integer."), nameof(value));
}

/// <summary>The exception an <see cref="Embedding{T}"/> layer throws for an id that is not an integer in its table's
/// vocabulary: an <see cref="ArgumentException"/> naming the row, the column and the value.</summary>
internal sealed class InvalidIdException : ArgumentException
{
    internal InvalidIdException(int row, int column, string value, int table, int vocabulary)
        : base(string.Create(CultureInfo.InvariantCulture,
            $"Row {row}, column {column}: the id {value} is not an integer in [0, {vocabulary}) (the vocabulary of embedding table {table})."), "inputs")
    {
        Row = row;
        Column = column;
        Value = value;
        Table = table;
        Vocabulary = vocabulary;
    }

    internal int Row { get; }

    internal int Column { get; }

    internal string Value { get; }

    internal int Table { get; }

    internal int Vocabulary { get; }

    /// <summary>The same error for the row <paramref name="offset"/> rows further on (when the batch was a slice).</summary>
    internal InvalidIdException AtRowOffset(int offset) => new(Row + offset, Column, Value, Table, Vocabulary);
}
