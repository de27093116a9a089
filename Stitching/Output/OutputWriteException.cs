namespace WsiSegment.Stitching.Output;

/// <summary>
/// An output file could not be written because the file system refused (full disk, quota, lost permission, I/O error):
/// an <see cref="IOException"/>, so worth retrying. <see cref="Path"/> is the file as its writer was asked to write it
/// (never a temporary name); a staging step that writes outputs elsewhere first maps it to the public name with
/// <see cref="Published"/>, keeping the staged one in <see cref="StagedPath"/>.
/// </summary>
public sealed class OutputWriteException : IOException
{
    public OutputWriteException(string path, string reason, Exception? inner = null, string? stagedPath = null)
        : base($"cannot write {path}: {reason}", inner)
    {
        Path = path;
        Reason = reason;
        StagedPath = stagedPath;
    }

    /// <summary>The file that could not be written.</summary>
    public string Path { get; }

    /// <summary>Why, in the file system's words (naming no temporary file).</summary>
    public string Reason { get; }

    /// <summary>Where the file was being written before being moved to <see cref="Path"/>, when it was staged.</summary>
    public string? StagedPath { get; }

    /// <summary>The same failure naming <paramref name="publicPath"/> (the staged path kept), with the staging folder
    /// <paramref name="stagedDir"/> in the reason given as <paramref name="publicDir"/>.</summary>
    public OutputWriteException Published(string publicPath, string stagedDir, string publicDir) =>
        new(publicPath, Reason.Replace(stagedDir, publicDir, StringComparison.Ordinal), InnerException ?? this, stagedPath: Path);

    /// <summary>
    /// <paramref name="error"/> (an I/O failure) while writing <paramref name="path"/>, possibly under the temporary
    /// name <paramref name="temporary"/>: the reason drops the path that the message repeats, temporary names given
    /// as the files they stand for. An <see cref="OutputWriteException"/> keeps its reason.
    /// </summary>
    public static OutputWriteException From(string path, Exception error, string? temporary = null)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error is OutputWriteException o && o.Path == path) return o;
        string reason = error is OutputWriteException inner ? inner.Reason : error.Message;
        if (temporary is not null) reason = reason.Replace(temporary, path, StringComparison.Ordinal);
        reason = AtomicFile.WithFinalNames(reason);
        // .NET's own messages end " : 'PATH'"; the exception names the file already.
        reason = reason.Replace($" : '{path}'", "", StringComparison.Ordinal).Trim();
        return new OutputWriteException(path, reason.Length == 0 ? error.GetType().Name : reason, error);
    }
}
