using static TorchSharp.torch;

namespace WsiSegment.Model.Stain;

/// <summary>sRGB (0..255, P×3) ↔ CIE L*a*b* (D65), as tensor ops over every pixel.</summary>
internal static class Lab
{
    private static readonly float[] RgbToXyz = [0.412453f, 0.357580f, 0.180423f, 0.212671f, 0.715160f, 0.072169f, 0.019334f, 0.119193f, 0.950227f];
    private static readonly float[] XyzToRgb = [3.240479f, -1.537150f, -0.498535f, -0.969256f, 1.875992f, 0.041556f, 0.055648f, -0.204043f, 1.057311f];
    private static readonly float[] White = [0.950456f, 1f, 1.088754f];

    public static Tensor FromRgb(Tensor rgb)
    {
        var c = rgb.div(255);
        var linear = where(c.gt(0.04045), c.add(0.055).div(1.055).pow(2.4), c.div(12.92));
        var xyz = linear.matmul(Matrix(RgbToXyz, rgb.device).t()).div(tensor(White).to(rgb.device));
        var f = where(xyz.gt(0.008856), xyz.pow(1.0 / 3), xyz.mul(7.787).add(16.0 / 116));
        var l = f[TensorIndex.Colon, 1].mul(116).sub(16);
        var a = f[TensorIndex.Colon, 0].sub(f[TensorIndex.Colon, 1]).mul(500);
        var b = f[TensorIndex.Colon, 1].sub(f[TensorIndex.Colon, 2]).mul(200);
        return stack([l, a, b], 1);
    }

    public static Tensor ToRgb(Tensor lab)
    {
        var fy = lab[TensorIndex.Colon, 0].add(16).div(116);
        var fx = lab[TensorIndex.Colon, 1].div(500).add(fy);
        var fz = fy.sub(lab[TensorIndex.Colon, 2].div(200));
        var f = stack([fx, fy, fz], 1);
        var xyz = where(f.gt(0.206893), f.pow(3), f.sub(16.0 / 116).div(7.787)).mul(tensor(White).to(lab.device));
        var linear = xyz.matmul(Matrix(XyzToRgb, lab.device).t()).clamp(0, 1);
        var c = where(linear.gt(0.0031308), linear.pow(1 / 2.4).mul(1.055).sub(0.055), linear.mul(12.92));
        return c.mul(255);
    }

    private static Tensor Matrix(float[] values, Device device) => tensor(values, [3, 3]).to(device);
}
