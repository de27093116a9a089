using Microsoft.Extensions.Logging.Abstractions;
using NetVips;
using WsiSegment.Model.Inference;
using WsiSegment.Model.Weights;
using WsiSegment.Processor.Segmentation;
using WsiSegment.Tests.Support;
using WsiSegment.Tiling.Phantoms;

namespace WsiSegment.Tests.Processor.Segmentation;

public class SeamTests
{
    /// <summary>
    /// Proof that stitching leaves no seams: the whole pipeline (band reader, overlapping 1024 tiles with the default
    /// overlap, Gaussian blending, spool, pyramid) labels a 1536×1536 slide as one forward pass over the whole image does.
    /// </summary>
    [Fact]
    public async Task Tiled_inference_equals_one_shot_inference_on_a_1536_square()
    {
        using var dir = new TempDir("seam");
        string model = File.Exists(TestModels.Demo) ? TestModels.Demo : TestModels.RandomEspNet();
        using var loaded = Checkpoint.Load(model);
        double mpp = loaded.Card.TrainedMpp ?? 2.0;
        var files = PhantomWriter.Write(new PhantomOptions { Width = 1536, Height = 1536, Seed = 5, TissueFraction = 0.9, Mpp = mpp }, dir.Path, null, default);

        var options = new SegmentOptions { ModelPath = model, TissueMask = false, WriteGeoJson = false, WriteOmeTiff = false, WriteOverlay = false };
        using (var segmenter = SlideSegmenter.Create(options, NullLoggerFactory.Instance))
            await segmenter.SegmentAsync(files.Slide, dir.Path, null, default);
        byte[] tiled;
        using (var mask = Image.NewFromFile(Path.Combine(dir.Path, Path.GetFileNameWithoutExtension(files.Slide) + ".mask.tif")))
        {
            Assert.Equal(1536, mask.Width);
            tiled = mask.WriteToMemory<byte>();
        }

        byte[] rgb;
        using (var slide = Image.NewFromFile(files.Slide))
            rgb = slide.WriteToMemory<byte>();
        var oneShot = new byte[1536 * 1536];
        using (var engine = InferenceEngine.Create(loaded, new InferenceOptions { Device = "cpu" }))
            engine.PredictLabels(rgb, 1, 1536, 1536, oneShot);

        int same = 0;
        for (int i = 0; i < oneShot.Length; i++) if (oneShot[i] == tiled[i]) same++;
        double agreement = (double)same / oneShot.Length;
        Assert.True(agreement >= 0.995, $"tiled vs one-shot agreement {agreement:P3}");
        // Not a trivial agreement: the labels vary over the image.
        Assert.True(oneShot.Distinct().Count() >= 2);
    }
}
