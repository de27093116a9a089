namespace WsiSegment.Tiling.Slides;

/// <summary>Reads the quantisation tables (DQT segments) of a JPEG stream's header. libjpeg decodes with an all-zero
/// table without complaint and every block comes out flat, so a zeroed table is silent garbage unless we look.</summary>
public static class JpegQuantisation
{
    /// <summary>A description of the first all-zero table, or null (also for null or non-JPEG data).</summary>
    public static string? FindZeroTable(byte[]? jpeg)
    {
        string? bad = null;
        Walk(jpeg, (id, zero) => bad ??= zero ? $"quantisation table {id} is all zeros" : null);
        return bad;
    }

    public static bool HasTable(byte[]? jpeg)
    {
        bool any = false;
        Walk(jpeg, (_, _) => any = true);
        return any;
    }

    private static void Walk(byte[]? d, Action<int, bool> table)
    {
        if (d is null || d.Length < 4 || d[0] != 0xFF || d[1] != 0xD8) return;
        int p = 2;
        while (p + 4 <= d.Length)
        {
            if (d[p] != 0xFF) return;
            byte marker = d[p + 1];
            if (marker == 0xFF) { p++; continue; }
            if (marker is 0xD8 or 0x01 or (>= 0xD0 and <= 0xD7)) { p += 2; continue; }
            if (marker is 0xD9 or 0xDA) return; // end of image / start of scan: no header segments follow
            int length = (d[p + 2] << 8) | d[p + 3];
            if (length < 2 || p + 2 + length > d.Length) return;
            if (marker == 0xDB)
            {
                int q = p + 4, end = p + 2 + length;
                while (q < end)
                {
                    int precision = d[q] >> 4, id = d[q] & 15, size = precision == 0 ? 64 : 128;
                    if (q + 1 + size > end) return;
                    bool zero = true;
                    for (int i = 0; i < size; i++) if (d[q + 1 + i] != 0) { zero = false; break; }
                    table(id, zero);
                    q += 1 + size;
                }
            }
            p += 2 + length;
        }
    }
}
