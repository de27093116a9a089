using WsiSegment.Model.Metrics;
using WsiSegment.Tests.Support;

namespace WsiSegment.Tests.Model;

public class ConfusionMatrixTests
{
    // Truth: class 1 in columns 0..4, rows 0..4 of a 10x10 image (25 px). Prediction: columns 2..6, same rows (25 px).
    // Overlap 3x5 = 15, union 35. Background: truth 75, predicted 75, both 100 - 35 = 65, union 85.
    private static readonly byte[] Truth = LabelFiles.Rectangle(10, 10, 0, 0, 5, 5, 1);
    private static readonly byte[] Pred = LabelFiles.Rectangle(10, 10, 2, 0, 7, 5, 1);

    [Fact]
    public void Two_known_rectangles_give_hand_computed_scores()
    {
        var m = new ConfusionMatrix(8);
        m.Add(Pred, Truth);
        var s = m.Score();
        Assert.Equal(100, s.Pixels);
        Assert.Equal(15, m[1, 1]);
        Assert.Equal(10, m[1, 0]);
        Assert.Equal(10, m[0, 1]);
        Assert.Equal(65, m[0, 0]);
        Assert.Equal(15.0 / 35, s.Classes[1].IoU!.Value, 12);
        Assert.Equal(65.0 / 85, s.Classes[0].IoU!.Value, 12);
        Assert.Equal(30.0 / 50, s.Classes[1].Dice!.Value, 12);
        Assert.Equal(130.0 / 150, s.Classes[0].Dice!.Value, 12);
        Assert.Null(s.Classes[5].IoU); // in neither truth nor prediction: undefined and left out of the mean
        Assert.Equal((15.0 / 35 + 65.0 / 85) / 2, s.MeanIoU!.Value, 12);
        Assert.Equal(0.8, s.PixelAccuracy!.Value, 12);
    }

    [Fact]
    public void A_class_only_predicted_counts_as_zero_in_the_mean()
    {
        var m = new ConfusionMatrix(3);
        m.Add([2, 0, 0, 0], [0, 0, 0, 0]);
        var s = m.Score();
        Assert.Equal(0.0, s.Classes[2].IoU);
        Assert.Equal((0.75 + 0.0) / 2, s.MeanIoU!.Value, 12);
    }

    [Fact]
    public void Ignored_truth_pixels_are_not_counted_and_merge_adds_counts()
    {
        var a = new ConfusionMatrix(8, ignoreValue: 255);
        a.Add([1, 1, 1], [1, 255, 0]);
        Assert.Equal(2, a.Total);
        var b = new ConfusionMatrix(8, ignoreValue: 255);
        b.Add(Pred, Truth);
        a.Merge(b);
        Assert.Equal(102, a.Total);
        Assert.Equal(16, a[1, 1]);
        Assert.Equal(11, a[0, 1]);
    }

    [Fact]
    public void A_label_beyond_the_class_count_is_an_error_saying_which_side_and_value()
    {
        var m = new ConfusionMatrix(8);
        var e = Assert.Throws<InvalidLabelException>(() => m.Add([0, 9], [0, 0]));
        Assert.Equal("prediction", e.Side);
        Assert.Equal(9, e.Value);
        Assert.Equal(1, e.PixelIndex);
        e = Assert.Throws<InvalidLabelException>(() => m.Add([0, 0], [8, 0]));
        Assert.Equal("truth", e.Side);
        Assert.Contains("0..7", e.Message);
    }
}
