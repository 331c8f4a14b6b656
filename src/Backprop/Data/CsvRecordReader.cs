using System.Text;

namespace Backprop.Data;

/// <summary>
/// Reads CSV text one record (non-blank line) at a time into reusable buffers, for <see cref="Csv"/> and
/// <see cref="CsvSampleSource{T}"/>: fields are trimmed of spaces and tabs, may be quoted ("…", with "" for a quote),
/// and every line must have as many fields as the first. Once the buffers have grown to the longest line, reading a
/// record allocates nothing.
/// </summary>
internal sealed class CsvRecordReader : IDisposable
{
    private readonly StreamReader _text;
    private readonly char _delimiter;
    private readonly bool _hasHeader;
    private char[] _chars = new char[8192];
    private int _start;
    private int _end;
    private bool _endOfText;
    private char[] _unquoted = new char[256];
    private int _unquotedLength;
    private FieldSpan[] _fields = new FieldSpan[16];
    private int _firstLine;

    /// <summary>Reads the text of <paramref name="stream"/> (UTF-8 unless it has another byte-order mark); disposing the
    /// reader disposes the stream.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delimiter"/> is a quote or a line break.</exception>
    public CsvRecordReader(Stream stream, string sourceName, char delimiter, bool hasHeader)
    {
        CheckDelimiter(delimiter);
        _text = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        SourceName = sourceName;
        _delimiter = delimiter;
        _hasHeader = hasHeader;
    }

    public string SourceName { get; }

    /// <summary>Rejects a delimiter that cannot separate fields: a quote or a line break.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="delimiter"/> is a quote or a line break.</exception>
    public static void CheckDelimiter(char delimiter)
    {
        if (delimiter is '"' or '\r' or '\n')
        {
            throw new ArgumentOutOfRangeException(nameof(delimiter), delimiter, $"The delimiter cannot be a quote or a line break, but it is U+{(int)delimiter:X4}.");
        }
    }

    /// <summary>The 1-based line of the current record.</summary>
    public int LineNumber { get; private set; }

    /// <summary>The number of fields of every record: that of the first line; 0 before it is read.</summary>
    public int Width { get; private set; }

    /// <summary>The column names, when the reader was told the first line is a header and has read it.</summary>
    public string[]? Header { get; private set; }

    /// <summary>The text of field <paramref name="column"/> (0-based) of the current record, valid until the next <see cref="Read"/>.</summary>
    public ReadOnlySpan<char> this[int column]
    {
        get
        {
            var field = _fields[column];
            return (field.Quoted ? _unquoted : _chars).AsSpan(field.Start, field.Length);
        }
    }

    /// <summary>Moves to the next data record, past blank lines and the header.</summary>
    /// <returns>False at the end of the text.</returns>
    /// <exception cref="InvalidDataException">A quote is not closed or is followed by text, or the line has a different number of fields than the first.</exception>
    public bool Read()
    {
        while (NextLine(out int start, out int length))
        {
            if (_chars.AsSpan(start, length).IsWhiteSpace())
            {
                continue;
            }

            int count = Split(start, length);
            if (Width == 0)
            {
                Width = count;
                _firstLine = LineNumber;
            }
            else if (count != Width)
            {
                throw new InvalidDataException(
                    $"{SourceName}, line {LineNumber}: expected {Width} fields separated by '{_delimiter}' (as on line {_firstLine}), but found {count}.");
            }

            if (_hasHeader && Header is null)
            {
                var names = new string[count];
                for (int c = 0; c < count; c++)
                {
                    names[c] = this[c].ToString();
                }

                Header = names;
                continue;
            }

            return true;
        }

        return false;
    }

    /// <summary>The error of a record with no data line: "there are no data lines".</summary>
    public InvalidDataException NoDataLines() =>
        new($"{SourceName}: there are no data lines{(_hasHeader && Header is not null ? " after the header" : "")}; at least one is needed.");

    /// <summary>The error for a field's value: the source, line, column, the column's name when there is a header, and the text.</summary>
    public InvalidDataException BadField(int column, string problem) =>
        Csv.BadField(SourceName, LineNumber, column, Header, this[column], problem);

    public void Dispose() => _text.Dispose();

    /// <summary>The next line of text (without its line break: \n, \r\n or \r), as a range of <see cref="_chars"/>.</summary>
    private bool NextLine(out int start, out int length)
    {
        int scanFrom = _start;
        while (true)
        {
            int found = _chars.AsSpan(scanFrom, _end - scanFrom).IndexOfAny('\r', '\n');
            if (found >= 0)
            {
                int end = scanFrom + found;
                if (_chars[end] == '\r' && end + 1 == _end && !_endOfText)
                {
                    // Whether a \n follows the \r is in text not read yet.
                    int offset = end - _start;
                    Fill();
                    scanFrom = _start + offset;
                    continue;
                }

                (start, length) = (_start, end - _start);
                _start = _chars[end] == '\r' && end + 1 < _end && _chars[end + 1] == '\n' ? end + 2 : end + 1;
                LineNumber++;
                return true;
            }

            if (_endOfText)
            {
                (start, length) = (_start, _end - _start);
                _start = _end;
                if (length == 0)
                {
                    return false;
                }

                LineNumber++;
                return true;
            }

            int scanned = _end - _start;
            Fill();
            scanFrom = _start + scanned;
        }
    }

    /// <summary>Moves the unread text to the front of the buffer (growing it when it is full) and reads more after it.</summary>
    private void Fill()
    {
        if (_start > 0)
        {
            Array.Copy(_chars, _start, _chars, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _chars.Length)
        {
            Array.Resize(ref _chars, _chars.Length * 2);
        }

        int read = _text.Read(_chars, _end, _chars.Length - _end);
        if (read == 0)
        {
            _endOfText = true;
        }

        _end += read;
    }

    /// <summary>Splits the line at <paramref name="lineStart"/> into trimmed fields, honouring double quotes; returns how many.</summary>
    private int Split(int lineStart, int lineLength)
    {
        ReadOnlySpan<char> line = _chars.AsSpan(lineStart, lineLength);
        _unquotedLength = 0;
        int count = 0, i = 0;
        while (true)
        {
            while (i < line.Length && line[i] is ' ' or '\t' && line[i] != _delimiter)
            {
                i++;
            }

            int start = i;
            FieldSpan field;
            if (i < line.Length && line[i] == '"')
            {
                int from = _unquotedLength;
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        throw new InvalidDataException($"{SourceName}, line {LineNumber}, column {count + 1}: the quote opened at character {start + 1} is not closed on this line.");
                    }

                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"')
                        {
                            AppendUnquoted('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    AppendUnquoted(line[i++]);
                }

                field = new FieldSpan(Quoted: true, from, _unquotedLength - from);
                while (i < line.Length && line[i] != _delimiter)
                {
                    if (line[i] is not (' ' or '\t'))
                    {
                        throw new InvalidDataException($"{SourceName}, line {LineNumber}, column {count + 1}: unexpected text after the closing quote at character {i + 1}.");
                    }

                    i++;
                }
            }
            else
            {
                int end = line[i..].IndexOf(_delimiter);
                end = end < 0 ? line.Length : i + end;
                field = new FieldSpan(Quoted: false, lineStart + i, line[i..end].TrimEnd(" \t").Length);
                i = end;
            }

            if (count == _fields.Length)
            {
                Array.Resize(ref _fields, count * 2);
            }

            _fields[count++] = field;
            if (i >= line.Length)
            {
                return count;
            }

            i++; // the delimiter
        }
    }

    private void AppendUnquoted(char c)
    {
        if (_unquotedLength == _unquoted.Length)
        {
            Array.Resize(ref _unquoted, _unquoted.Length * 2);
        }

        _unquoted[_unquotedLength++] = c;
    }

    /// <summary>Where a field's text is: in the line (unquoted) or in the buffer of unquoted text.</summary>
    private readonly record struct FieldSpan(bool Quoted, int Start, int Length);
}
