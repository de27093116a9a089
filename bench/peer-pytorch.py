#!/usr/bin/python3
"""The plain PyTorch script a user writes in an afternoon, as the figure wsi-segment is held to (bench/compare.sh).

OpenSlide read_region per tile -> ESPNet (our own PyTorch port with the authors' parameter names, weights read from
a wsi-segment safetensors checkpoint) at batch 1 -> softmax x Gaussian window accumulated in numpy -> argmax ->
tifffile OME-TIFF pyramid (SubIFDs, tiled 512, deflate). Same tile, overlap, MPP and normalisation as `segment`.
No tissue detection: every tile is run. Uses Debian's python3-torch, python3-openslide, python3-numpy,
python3-tifffile (bench/compare.sh installs them).

Usage: peer-pytorch.py SLIDE CKPT OUT.ome.tif [--tile 1024] [--overlap 128] [--mpp M] [--threads N] [--flush-denormal]
Prints one JSON line with the stage seconds.
"""
import argparse
import json
import math
import struct
import time

import numpy as np
import openslide
import tifffile
import torch
import torch.nn as nn
import torch.nn.functional as F


def conv(cin, cout, k, stride=1, dilation=1):
    return nn.Conv2d(cin, cout, k, stride=stride, padding=(k // 2) * dilation, dilation=dilation, bias=False)


class Wrap(nn.Module):
    """A convolution under the attribute name `conv` (the checkpoint's naming)."""
    def __init__(self, cin, cout, k, stride=1, dilation=1):
        super().__init__()
        self.conv = conv(cin, cout, k, stride, dilation)

    def forward(self, x):
        return self.conv(x)


class NormAct(nn.Module):
    def __init__(self, n):
        super().__init__()
        self.bn = nn.BatchNorm2d(n, eps=1e-3)
        self.act = nn.PReLU(n)

    def forward(self, x):
        return self.act(self.bn(x))


class ConvNormAct(nn.Module):
    def __init__(self, cin, cout, k, stride=1):
        super().__init__()
        self.conv = conv(cin, cout, k, stride)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3)
        self.act = nn.PReLU(cout)

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Esp(nn.Module):
    """Reduce, split into 5 dilated branches (1, 2, 4, 8, 16), hierarchical sums, concatenate."""
    def __init__(self, cin, cout, reduce_k, stride, residual, down):
        super().__init__()
        n = cout // 5
        self.c1 = Wrap(cin, n, reduce_k, stride)
        self.d1 = Wrap(n, cout - 4 * n, 3, 1, 1)
        self.d2 = Wrap(n, n, 3, 1, 2)
        self.d4 = Wrap(n, n, 3, 1, 4)
        self.d8 = Wrap(n, n, 3, 1, 8)
        self.d16 = Wrap(n, n, 3, 1, 16)
        self.residual = residual
        self.down = down
        if down:
            self.bn = nn.BatchNorm2d(cout, eps=1e-3)
            self.act = nn.PReLU(cout)
        else:
            self.bn = NormAct(cout)

    def forward(self, x):
        r = self.c1(x)
        a = self.d2(r)
        b = a + self.d4(r)
        c = b + self.d8(r)
        d = c + self.d16(r)
        y = torch.cat([self.d1(r), a, b, c, d], 1)
        if self.residual:
            y = y + x
        return self.act(self.bn(y)) if self.down else self.bn(y)


class Pools(nn.Module):
    def __init__(self, times):
        super().__init__()
        self.pool = nn.ModuleList([nn.AvgPool2d(3, stride=2, padding=1) for _ in range(times)])

    def forward(self, x):
        for p in self.pool:
            x = p(x)
        return x


class Encoder(nn.Module):
    def __init__(self, classes, p, q):
        super().__init__()
        self.level1 = ConvNormAct(3, 16, 3, 2)
        self.sample1 = Pools(1)
        self.sample2 = Pools(2)
        self.b1 = NormAct(19)
        self.level2_0 = Esp(19, 64, 3, 2, False, True)
        self.level2 = nn.ModuleList([Esp(64, 64, 1, 1, True, False) for _ in range(p)])
        self.b2 = NormAct(131)
        self.level3_0 = Esp(131, 128, 3, 2, False, True)
        self.level3 = nn.ModuleList([Esp(128, 128, 1, 1, True, False) for _ in range(q)])
        self.b3 = NormAct(256)
        self.classifier = Wrap(256, classes, 1)


class EspNet(nn.Module):
    def __init__(self, classes, p, q):
        super().__init__()
        self.encoder = Encoder(classes, p, q)
        self.level3_C = Wrap(131, classes, 1)
        self.br = nn.BatchNorm2d(classes, eps=1e-3)
        self.conv = ConvNormAct(16 + classes, classes, 3)
        self.up_l3 = nn.Sequential(nn.ConvTranspose2d(classes, classes, 2, stride=2, bias=False))
        self.combine_l2_l3 = nn.Sequential(NormAct(2 * classes), Esp(2 * classes, classes, 1, 1, False, False))
        self.up_l2 = nn.Sequential(nn.ConvTranspose2d(classes, classes, 2, stride=2, bias=False), NormAct(classes))
        self.classifier = nn.ConvTranspose2d(classes, classes, 2, stride=2, bias=False)

    def forward(self, x):
        e = self.encoder
        out0 = e.level1(x)
        cat0 = e.b1(torch.cat([out0, e.sample1(x)], 1))
        down1 = e.level2_0(cat0)
        y = down1
        for layer in e.level2:
            y = layer(y)
        cat1 = e.b2(torch.cat([y, down1, e.sample2(x)], 1))
        down2 = e.level3_0(cat1)
        z = down2
        for layer in e.level3:
            z = layer(z)
        cat2 = e.b3(torch.cat([down2, z], 1))
        up3 = self.up_l3(self.br(e.classifier(cat2)))
        up2 = self.up_l2(self.combine_l2_l3(torch.cat([self.level3_C(cat1), up3], 1)))
        return self.classifier(self.conv(torch.cat([up2, out0], 1)))


def read_checkpoint(path):
    """safetensors: 8-byte header length, JSON header (offsets into the data), raw little-endian tensors."""
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    card = json.loads(header.get("__metadata__", {}).get("model_card", "{}"))
    tensors = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        a, b = t["data_offsets"]
        tensors[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=dtypes[t["dtype"]]).reshape(t["shape"]).copy())
    return card, tensors


def slide_mpp(slide):
    p = slide.properties
    if openslide.PROPERTY_NAME_MPP_X in p:
        return float(p[openslide.PROPERTY_NAME_MPP_X])
    # Debian's OpenSlide 3.4 lists the TIFF resolution tags only.
    unit, res = p.get("tiff.ResolutionUnit"), p.get("tiff.XResolution")
    if res:
        per_um = {"centimeter": 1e4, "inch": 25400.0}.get(unit, 1e4)
        return per_um / float(res)
    raise SystemExit("slide records no MPP")


def gaussian_window(tile):
    sigma, centre = 0.125 * tile, tile / 2.0
    u = np.arange(tile) + 0.5 - centre
    w = np.maximum(np.exp(-u * u / (2 * sigma * sigma)), 1e-6).astype(np.float32)
    return np.outer(w, w)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("slide")
    ap.add_argument("checkpoint")
    ap.add_argument("out")
    ap.add_argument("--tile", type=int, default=1024)
    ap.add_argument("--overlap", type=int, default=128)
    ap.add_argument("--mpp", type=float)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--flush-denormal", action="store_true",
                    help="torch.set_flush_denormal(True) before the first kernel (not what the plain script does)")
    args = ap.parse_args()
    if args.flush_denormal:
        torch.set_flush_denormal(True)
    if args.threads:
        torch.set_num_threads(args.threads)
    t = {}
    t0 = time.perf_counter()

    card, tensors = read_checkpoint(args.checkpoint)
    classes = len(card["classes"])
    net = EspNet(classes, card["p"], card["q"])
    net.load_state_dict({k: v for k, v in tensors.items()}, strict=True)
    net.eval()
    norm = card["normalisation"]
    order = [0, 1, 2] if norm.get("channel_order", "RGB") == "RGB" else [2, 1, 0]
    scale = float(norm.get("scale", 1.0))
    mean = np.array(norm["mean"], np.float32)[order].reshape(3, 1, 1)
    std = np.array(norm["std"], np.float32)[order].reshape(3, 1, 1)
    t["load"] = time.perf_counter() - t0

    slide = openslide.OpenSlide(args.slide)
    mpp0 = slide_mpp(slide)
    target = args.mpp or card.get("trained_mpp") or mpp0
    # The coarsest level at or finer than the target, then a resize to the target if they differ.
    level = max((i for i, d in enumerate(slide.level_downsamples) if mpp0 * d <= target * 1.01), default=0)
    ds = slide.level_downsamples[level]
    factor = target / (mpp0 * ds)
    lw, lh = slide.level_dimensions[level]
    W, H = int(round(lw / factor)), int(round(lh / factor))
    T, step = args.tile, args.tile - args.overlap
    win = gaussian_window(T)
    acc = np.zeros((classes, H, W), np.float32)
    wsum = np.zeros((H, W), np.float32)
    tiles = 0
    tr = ti = tb = 0.0
    ys = list(range(0, max(1, H - args.overlap), step))
    xs = list(range(0, max(1, W - args.overlap), step))
    with torch.inference_mode():
        for y in ys:
            for x in xs:
                a = time.perf_counter()
                src = int(math.ceil(T * factor))
                rgba = slide.read_region((int(x * factor * ds), int(y * factor * ds)), level, (src, src))
                rgb = np.asarray(rgba.convert("RGB"), np.float32).transpose(2, 0, 1)[order]
                inp = torch.from_numpy(((rgb - mean) / std * scale)[None])
                if src != T:
                    inp = F.interpolate(inp, size=(T, T), mode="area")
                b = time.perf_counter()
                prob = torch.softmax(net(inp), 1)[0].numpy()
                c = time.perf_counter()
                h, w = min(T, H - y), min(T, W - x)
                acc[:, y:y + h, x:x + w] += prob[:, :h, :w] * win[:h, :w]
                wsum[y:y + h, x:x + w] += win[:h, :w]
                tiles += 1
                tr += b - a
                ti += c - b
                tb += time.perf_counter() - c
    t["read"], t["inference"], t["blend"] = tr, ti, tb
    a = time.perf_counter()
    labels = acc.argmax(0).astype(np.uint8)
    del acc
    levels = [labels]
    while min(levels[-1].shape) > 512:
        levels.append(levels[-1][::2, ::2])  # nearest: labels are never averaged
    with tifffile.TiffWriter(args.out, bigtiff=True, ome=True) as tif:
        opts = dict(tile=(512, 512), compression="zlib", photometric="minisblack")
        tif.write(labels, subifds=len(levels) - 1, metadata={"PhysicalSizeX": target, "PhysicalSizeY": target}, **opts)
        for lv in levels[1:]:
            tif.write(lv, subfiletype=1, **opts)
    t["write"] = time.perf_counter() - a
    t["total"] = time.perf_counter() - t0
    print(json.dumps({"tiles": tiles, "analysis": [W, H], "level": level, "mpp": target, "threads": torch.get_num_threads(),
                      "seconds": {k: round(v, 3) for k, v in t.items()}}))


if __name__ == "__main__":
    main()
