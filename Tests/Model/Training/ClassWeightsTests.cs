using WsiSegment.Model.Training;

namespace WsiSegment.Tests.Model.Training;

public class ClassWeightsTests
{
    [Fact]
    public void Weights_follow_one_over_log_of_1_10_plus_class_share()
    {
        // Shares 0.5, 0.3, 0.2, 0: w = 1/ln(1.6), 1/ln(1.4), 1/ln(1.3), 1/ln(1.1).
        var w = ClassWeights.FromHistogram([500, 300, 200, 0]);
        Assert.Equal(4, w.Length);
        Assert.Equal(2.12764, w[0], 4);
        Assert.Equal(2.97201, w[1], 4);
        Assert.Equal(3.81149, w[2], 4);
        Assert.Equal(10.49206, w[3], 4);
    }

    [Fact]
    public void A_single_class_gets_the_smallest_weight_and_empty_histograms_are_rejected()
    {
        Assert.Equal(1.0 / Math.Log(2.1), ClassWeights.FromHistogram([7, 0])[0], 5);
        Assert.Throws<ArgumentException>(() => ClassWeights.FromHistogram([0, 0, 0]));
        Assert.Throws<ArgumentException>(() => ClassWeights.FromHistogram([]));
        Assert.Throws<ArgumentException>(() => ClassWeights.FromHistogram([3, -1]));
    }
}
