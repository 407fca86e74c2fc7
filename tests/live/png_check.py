#!/usr/bin/env python3
"""Is a PNG screenshot drawn? Prints the share of non-white pixels and of pixels in
the charts' series colour (#1565c0); exits 1 when the page is blank or has no series."""
import struct
import sys
import zlib


def pixels(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), "unexpected PNG type"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw, stride, prev, out = zlib.decompress(idat), w * bpp, bytearray(w * bpp), []
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        out.append(line)
        prev = line
    return w, h, bpp, out


w, h, bpp, rows = pixels(sys.argv[1])
total = inked = series = 0
for line in rows[::2]:
    for x in range(0, w * bpp, bpp * 2):
        r, g, b = line[x], line[x + 1], line[x + 2]
        total += 1
        inked += (r, g, b) != (255, 255, 255)
        series += abs(r - 0x15) < 40 and abs(g - 0x65) < 40 and abs(b - 0xc0) < 40
print("%dx%d: %.2f%% drawn, %.3f%% series colour" % (w, h, 100.0 * inked / total, 100.0 * series / total))
sys.exit(0 if inked > total * 0.01 and series > 50 else 1)
