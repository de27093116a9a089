namespace WsiSegment.Tiling.Slides;

/// <summary>A slide could not be used; the message names the file and the reason, ready for one line of output.</summary>
public class SlideException : Exception
{
    public SlideException(string path, string reason, Exception? inner = null)
        : base($"{path}: {reason}", inner)
    {
        FilePath = path;
        Reason = reason;
    }

    public string FilePath { get; }
    public string Reason { get; }
}

/// <summary>The file is not a slide or image that any loader recognises (missing, empty, a directory, text...).</summary>
public sealed class NotASlideException(string path, string reason, Exception? inner = null)
    : SlideException(path, reason, inner);

/// <summary>The file is recognised as a slide but its pixels or structure cannot be read (truncated, corrupt tiles).</summary>
public sealed class CorruptSlideException(string path, string reason, Exception? inner = null)
    : SlideException(path, reason, inner);
