namespace WsiSegment.Tiling.Slides;

/// <summary>
/// What is checked before libvips or OpenSlide may open a file: that it is a regular file (by stat, never by opening:
/// a FIFO would block, a link to /dev/zero never end), that we may read it, and, for TIFF, that its declared structure
/// is within <see cref="SlideLimits"/> (<see cref="TiffPreflight"/>). The header is read on a worker thread under
/// <see cref="SlideLimits.OpenTimeout"/>, so a hung mount is an error rather than a hang.
/// </summary>
public static class SlidePreflight
{
    /// <summary>Returns the file's size and the warnings; throws <see cref="SlideException"/>s naming the file.</summary>
    public static (long Bytes, IReadOnlyList<string> Warnings) Check(string path, string full, SlideLimits limits)
    {
        var kind = FileKind.Of(full);
        if (kind.Rejection is { } why) throw new NotASlideException(path, why);
        if (kind.Size == 0) throw new NotASlideException(path, "file is empty (0 bytes)");
        var read = Task.Run(() =>
        {
            try
            {
                using var file = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, FileOptions.RandomAccess);
                return TiffPreflight.Check(path, file, limits) ?? [];
            }
            catch (UnauthorizedAccessException e)
            {
                throw new UnreadableSlideException(path, "permission denied: this user may not read the file", e);
            }
            catch (IOException e) when (e is not FileNotFoundException)
            {
                throw new UnreadableSlideException(path, "cannot be read: " + e.Message, e);
            }
            catch (FileNotFoundException e)
            {
                throw new NotASlideException(path, "no such file", e);
            }
        });
        try
        {
            if (!read.Wait(limits.OpenTimeout))
                throw new UnreadableSlideException(path, $"reading its header did not finish within {limits.OpenTimeout.TotalSeconds:0.#} s (a hung mount or device?)");
            return (kind.Size, read.Result);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
    }

    /// <summary>Refuses an image that libvips would have to decode whole (not tiled) beyond the limit: it would
    /// otherwise decode it into memory or a temporary file of that size (12 GB for a 689-byte JPEG bomb).</summary>
    public static void CheckWholeDecode(string path, string loader, long width, long height, long bands, long bytesPerSample, SlideLimits limits)
    {
        long bytes = width * height * bands * bytesPerSample;
        if (width > limits.MaxSide || height > limits.MaxSide || width * height > limits.MaxPixels || bytes > limits.MaxWholeDecodeBytes)
            throw new UnsupportedSlideException(path,
                $"a {loader} image of {width}×{height} pixels must be decoded whole ({bytes / 1048576.0:0} MiB), more than the {limits.MaxWholeDecodeBytes >> 20} MiB limit " +
                "for untiled images: refused before decoding (convert it to a tiled pyramidal TIFF)");
    }
}
