namespace Backprop;

/// <summary>Builds the <see cref="InvalidDataException"/> that model loading throws (the type is sealed, so the byte
/// offset travels in the message and in <see cref="Exception.Data"/>["Offset"]).</summary>
internal static class ModelFormatError
{
    public static InvalidDataException At(string message, long offset, Exception? inner = null)
    {
        string text = offset >= 0 ? $"Invalid model file: {message} (at byte {offset})." : $"Invalid model file: {message}.";
        var exception = inner is null ? new InvalidDataException(text) : new InvalidDataException(text, inner);
        exception.Data["Offset"] = offset;
        return exception;
    }
}
