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

/// <summary>The file is a well-formed image we refuse to decode: it declares more than <see cref="SlideLimits"/> allow
/// (a decompression bomb, absurd tiles) or samples we cannot read exactly (float, signed, odd bit depths).</summary>
public sealed class UnsupportedSlideException(string path, string reason, Exception? inner = null)
    : SlideException(path, reason, inner);

/// <summary>The file exists but we may not read it (permission denied), or reading it did not finish in time.</summary>
public sealed class UnreadableSlideException(string path, string reason, Exception? inner = null)
    : SlideException(path, reason, inner);
