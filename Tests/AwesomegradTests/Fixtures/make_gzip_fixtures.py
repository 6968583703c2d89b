"""Writes the small gzip fixtures the IDX and inflate tests read (in gzip/ beside this script).

- images.idx3.gz: an IDX array [5, 4, 4] of unsigned bytes, pixel k (row-major) = (37*k + 11) % 256,
  compressed at level 9 with the file name in the header (FNAME).
- images_stored.idx3.gz: the same array compressed at level 0 (stored blocks).
- labels.idx1.gz: an IDX array [5] with labels [3, 1, 4, 1, 5].
- squares.txt.gz: the text "0 1 4 9 ... " of (i*i) % 1000 for i in 0..<4000 (dynamic Huffman blocks).

Run from the repository root:
    python Tests/AwesomegradTests/Fixtures/make_gzip_fixtures.py
"""

import gzip
import io
import os
import struct
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gzip")
os.makedirs(OUT, exist_ok=True)


def idx(shape, values):
    header = bytes([0, 0, 0x08, len(shape)]) + b"".join(struct.pack(">I", d) for d in shape)
    return header + bytes(values)


def write(name, data, level, filename=""):
    buffer = io.BytesIO()
    with gzip.GzipFile(filename=filename, mode="wb", fileobj=buffer, compresslevel=level, mtime=0) as f:
        f.write(data)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(buffer.getvalue())
    # The block type of the first deflate block, to document which kind each fixture exercises.
    raw = buffer.getvalue()
    start = 10 + (len(filename) + 1 if filename else 0)
    print(name, len(raw), "bytes, first block type", (raw[start] >> 1) & 3, "crc", hex(zlib.crc32(data)))


images = idx([5, 4, 4], [(37 * k + 11) % 256 for k in range(80)])
write("images.idx3.gz", images, 9, filename="images.idx3")
write("images_stored.idx3.gz", images, 0)
write("labels.idx1.gz", idx([5], [3, 1, 4, 1, 5]), 9)
write("squares.txt.gz", "".join(f"{i * i % 1000} " for i in range(4000)).encode(), 9)
