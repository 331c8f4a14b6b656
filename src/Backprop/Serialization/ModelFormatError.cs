namespace Backprop;

/// <summary>Builds the <see cref="InvalidDataException"/> that model loading throws (the type is sealed, so the byte
/// offset travels in the message and in <see cref="Exception.Data"/>["Offset"]).</summary>
internal static class ModelFormatError
{
    public static InvalidDataException At(string message, long offset)
    {
        var exception = new InvalidDataException(offset >= 0 ? $"Invalid model file: {message} (at byte {offset})." : $"Invalid model file: {message}.");
        exception.Data["Offset"] = offset;
        return exception;
    }
}
