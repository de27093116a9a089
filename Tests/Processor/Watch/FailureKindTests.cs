using WsiSegment.Processor.Watch;
using WsiSegment.Stitching.Output;
using WsiSegment.Tiling.Slides;

namespace WsiSegment.Tests.Processor.Watch;

/// <summary>Geometry and format faults are never retried; I/O and memory trouble is.</summary>
public class FailureKindTests
{
    public static TheoryData<Exception, FailureKind> Cases() => new()
    {
        { new UnsupportedSlideException("s.tif", "tiles of 2^20 px"), FailureKind.Permanent },
        { new CorruptSlideException("s.tif", "directory chain loops"), FailureKind.Permanent },
        { new UnreadableSlideException("s.tif", "permission denied"), FailureKind.Permanent },
        { new OutputGeometryException("cannot make s.thumb.png: affine: output coordinates out of range"), FailureKind.Permanent },
        { new IOException("cannot write s.mask.tif: No space left on device"), FailureKind.Transient },
        { new OutputWriteException("s.mask.tif", "No space left on device"), FailureKind.Transient },
        { new OutOfMemoryException(), FailureKind.Transient },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Failures_are_classified_by_what_would_happen_on_a_retry(Exception e, FailureKind expected) =>
        Assert.Equal(expected, FailureClassifier.Classify(e));
}
