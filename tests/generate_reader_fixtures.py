#!/usr/bin/python3
"""Writes the reader test fixtures into tests/data/readers/ and their expected
contents into tests/data/readers/expected.json.

Run with Debian's interpreter, which has numpy and nibabel:

    /usr/bin/python3 tests/generate_reader_fixtures.py

The expected values are computed here, independently of the C++ readers:
"shape" is the PyTorch shape the reader must give, "values" the array's
elements in C order (as strings, so 64-bit integers survive JSON), and
"geometry" the spacing/origin/direction (row-major, columns = directions of
the x, y, z index axes) that the reader must report. NRRD, MetaImage, PNG and
TIFF files are written by hand (no VTK or PIL needed). The output is
deterministic: running the script twice gives identical files.
"""

import gzip
import json
import math
import os
import shutil
import struct
import zipfile
import zlib

import nibabel as nib
import numpy as np

from fixture_values import flat_values

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data", "readers")

expected = []


def torch_shape(dims, layout="auto"):
    dims = list(dims)
    if len(dims) == 2:
        return [1, 1] + dims, 2
    if len(dims) == 3:
        if layout == "nhw":
            return [dims[0], 1, dims[1], dims[2]], 2
        return [1, 1] + dims, 3
    if len(dims) == 4:
        return dims, 2
    return dims, 3


def dtype_name(dtype):
    return np.dtype(dtype).newbyteorder("=").name


def record(path, array, dtype=None, layout="auto", key="", geometry=None, shape=None, spatial=None):
    if shape is None:
        shape, spatial = torch_shape(array.shape, layout)
    entry = {
        "file": os.path.relpath(path, OUT),
        "layout": layout,
        "key": key,
        "shape": [int(s) for s in shape],
        "spatial_dims": spatial,
        "dtype": dtype or dtype_name(array.dtype),
        "values": flat_values(array),
        "geometry": geometry or {"known": False},
    }
    expected.append(entry)


def sample(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.integers(0, 2, size=shape).astype(bool)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        a = rng.integers(info.min, info.max, size=shape, dtype=dtype.newbyteorder("="), endpoint=True)
        flat = a.reshape(-1)
        flat[0] = info.min  # extremes, to catch sign and byte-order mistakes
        flat[-1] = info.max
        return a
    a = (rng.standard_normal(size=shape) * 100).astype(dtype.newbyteorder("="))
    flat = a.reshape(-1)
    flat[0] = -0.0 if flat.size > 2 else flat[0]
    if flat.size > 3:
        flat[1] = np.finfo(dtype).max
        flat[2] = np.finfo(dtype).tiny
    return a


def write_npy(path, array, version=None):
    with open(path, "wb") as f:
        np.lib.format.write_array(f, array, version=version, allow_pickle=False)


def geometry_from_affine(affine):
    affine = np.asarray(affine, dtype=float)
    columns = affine[:3, :3]
    spacing = np.linalg.norm(columns, axis=0)
    direction = columns / spacing
    return {
        "known": True,
        "spacing": spacing.tolist(),
        "origin": affine[:3, 3].tolist(),
        "direction": direction.reshape(-1).tolist(),
    }


def rotation_z(degrees):
    t = math.radians(degrees)
    return np.array([[math.cos(t), -math.sin(t), 0], [math.sin(t), math.cos(t), 0], [0, 0, 1]])


def rotation_x(degrees):
    t = math.radians(degrees)
    return np.array([[1, 0, 0], [0, math.cos(t), -math.sin(t)], [0, math.sin(t), math.cos(t)]])


def gzip_bytes(data):
    # mtime=0 keeps the output reproducible.
    return gzip.compress(data, compresslevel=9, mtime=0)


# ---------------------------------------------------------------------------
def make_npy():
    d = os.path.join(OUT, "npy")
    os.makedirs(d)
    dtypes = ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64",
              "float16", "float32", "float64"]
    for i, name in enumerate(dtypes):
        base = np.dtype(name)
        orders = ["|"] if base.itemsize == 1 else ["<", ">"]
        for order in orders:
            dt = base.newbyteorder(order) if order != "|" else base
            array = sample((2, 3, 4), base, seed=i).astype(dt)
            tag = {"<": "le", ">": "be", "|": "na"}[order]
            path = os.path.join(d, f"dtype_{name}_{tag}.npy")
            write_npy(path, array)
            record(path, array, dtype=name)
    shapes = {2: (5, 7), 3: (3, 4, 5), 4: (2, 1, 3, 4), 5: (1, 2, 3, 4, 5)}
    for ndim, shape in shapes.items():
        base = np.arange(np.prod(shape), dtype=np.int32).reshape(shape) * 3 - 7
        for order in ("c", "f"):
            array = np.asfortranarray(base) if order == "f" else np.ascontiguousarray(base)
            path = os.path.join(d, f"shape_{ndim}d_{order}.npy")
            write_npy(path, array)
            assert np.load(path).flags.f_contiguous == (order == "f")
            record(path, base)
    # Fortran order with a non-native byte order and 8-byte items.
    base = sample((3, 4, 5), "float64", seed=40)
    array = np.asfortranarray(base.astype(">f8"))
    path = os.path.join(d, "fortran_be_f8.npy")
    write_npy(path, array)
    record(path, base, dtype="float64")
    # A batch of 2D masks read with layout NHW.
    nhw = (np.arange(3 * 4 * 5).reshape(3, 4, 5) % 3).astype(np.uint8)
    path = os.path.join(d, "batch_nhw.npy")
    write_npy(path, nhw)
    record(path, nhw, layout="nhw")
    # Format versions 2.0 and 3.0 (1.0 is what numpy picks for the others).
    for version in ((1, 0), (2, 0), (3, 0)):
        array = sample((4, 6), "float32", seed=50 + version[0])
        path = os.path.join(d, f"version_{version[0]}.npy")
        write_npy(path, array, version=version)
        with open(path, "rb") as f:
            assert f.read(8)[6] == version[0]
        record(path, array)


def savez(path, compress, force_zip64=False, **arrays):
    """numpy.savez / savez_compressed with a fixed timestamp (reproducible)."""
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=method) as archive:
        for key, array in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = method
            # force_zip64, as numpy.savez does, adds ZIP64 extra fields.
            with archive.open(info, "w", force_zip64=force_zip64) as f:
                np.lib.format.write_array(f, np.asanyarray(array), allow_pickle=False)
    loaded = np.load(path)
    for key, array in arrays.items():
        assert np.array_equal(loaded[key], array)


def make_npz():
    d = os.path.join(OUT, "npz")
    os.makedirs(d)
    pred = sample((2, 1, 6, 7), "float32", seed=60)
    target = (sample((2, 1, 6, 7), "uint8", seed=61) % 3).astype(np.uint8)
    path = os.path.join(d, "single_stored.npz")
    savez(path, False, pred=pred)
    record(path, pred)
    path = os.path.join(d, "single_deflated.npz")
    savez(path, True, pred=pred)
    record(path, pred)
    path = os.path.join(d, "single_deflated_zip64.npz")
    savez(path, True, force_zip64=True, pred=pred)
    record(path, pred)
    path = os.path.join(d, "multi_deflated.npz")
    savez(path, True, pred=pred, target=target)
    record(path, pred, key="pred")
    record(path, target, key="target")
    path = os.path.join(d, "multi_stored.npz")
    savez(path, False, force_zip64=True, pred=pred, target=target)
    record(path, target, key="target")
    # A big-endian Fortran array inside a deflated archive.
    volume = np.asfortranarray(sample((3, 4, 5), "int16", seed=62).astype(">i2"))
    path = os.path.join(d, "fortran_be.npz")
    savez(path, True, volume=volume)
    record(path, volume.astype("<i2"), dtype="int16")


# ---------------------------------------------------------------------------
def make_nifti():
    d = os.path.join(OUT, "nifti")
    os.makedirs(d)

    def save(img, name, check_qfac=None):
        path = os.path.join(d, name)
        if name.endswith(".gz"):
            raw = img.to_bytes()
            with open(path, "wb") as f:
                f.write(gzip_bytes(raw))
        else:
            img.to_filename(path)
        loaded = nib.load(path)
        data = np.asarray(loaded.dataobj.get_unscaled())
        if check_qfac is not None:
            assert loaded.header["pixdim"][0] == check_qfac, loaded.header["pixdim"][0]
        x, y, z = data.shape[:3]
        array = data.T  # [Z, Y, X]
        if z == 1:
            shape, spatial = [1, 1, y, x], 2
        else:
            shape, spatial = [1, 1, z, y, x], 3
        record(path, array, dtype=dtype_name(data.dtype), shape=shape, spatial=spatial,
               geometry=geometry_from_affine(loaded.affine))
        return path

    rng = np.random.default_rng(70)
    # NIfTI-1, sform (rotation about z, anisotropic spacing, non-zero origin).
    affine = np.eye(4)
    affine[:3, :3] = rotation_z(30) @ np.diag([0.8, 0.8, 2.5])
    affine[:3, 3] = [-10.0, 20.5, 3.25]
    labels = rng.integers(0, 4, size=(5, 6, 4)).astype(np.uint8)
    img = nib.Nifti1Image(labels, affine)
    img.set_sform(affine, code=2)
    img.set_qform(affine, code=1)
    save(img, "nifti1_sform_uint8.nii")
    save(img, "nifti1_sform_uint8.nii.gz")

    # NIfTI-1, qform only, with an x-axis flip (negative determinant -> qfac -1,
    # which makes VTK reverse the slices).
    affine = np.eye(4)
    affine[:3, :3] = rotation_x(20) @ np.diag([-0.8, 0.8, 2.5])
    affine[:3, 3] = [12.0, -4.0, 7.5]
    data = rng.integers(-300, 300, size=(4, 5, 6)).astype(np.int16)
    img = nib.Nifti1Image(data, None)
    img.set_qform(affine, code=1)
    img.set_sform(None, code=0)
    save(img, "nifti1_qform_flip_int16.nii", check_qfac=-1)
    save(img, "nifti1_qform_flip_int16.nii.gz", check_qfac=-1)

    # NIfTI-2, float32 probabilities, sform with a y flip.
    affine = np.eye(4)
    affine[:3, :3] = np.diag([1.5, -0.75, 2.0])
    affine[:3, 3] = [-5.0, 60.0, -30.0]
    probs = rng.random(size=(6, 4, 3)).astype(np.float32)
    img = nib.Nifti2Image(probs, affine)
    img.set_sform(affine, code=1)
    save(img, "nifti2_float32.nii")
    save(img, "nifti2_float32.nii.gz")

    # 2D NIfTI (Z == 1) -> [1, 1, Y, X].
    affine = np.diag([0.5, 0.6, 1.0, 1.0])
    flat = rng.integers(0, 2, size=(7, 5, 1)).astype(np.uint8)
    img = nib.Nifti1Image(flat, affine)
    save(img, "nifti1_2d.nii")

    # Big-endian headers and data (NIfTI-1 int16 with a qform, NIfTI-2 float64).
    affine = np.diag([0.9, 1.1, 3.0, 1.0])
    affine[:3, 3] = [1.0, 2.0, 3.0]
    data = rng.integers(-1000, 1000, size=(5, 3, 4)).astype(">i2")
    img = nib.Nifti1Image(data, affine, header=nib.Nifti1Header(endianness=">"))
    img.set_qform(affine, code=1)
    img.set_sform(None, code=0)
    img.set_data_dtype(">i2")
    assert img.header.endianness == ">"
    save(img, "nifti1_bigendian_int16.nii")
    data = rng.standard_normal(size=(3, 4, 2)).astype(">f8")
    img = nib.Nifti2Image(data, affine, header=nib.Nifti2Header(endianness=">"))
    img.set_sform(affine, code=1)
    img.set_data_dtype(">f8")
    save(img, "nifti2_bigendian_float64.nii.gz")

    # A time series (4D with t > 1) is not a mask: the reader must refuse it.
    series = rng.integers(0, 2, size=(3, 3, 3, 2)).astype(np.uint8)
    nib.Nifti1Image(series, np.eye(4)).to_filename(os.path.join(d, "nifti1_4d_time.nii"))


# ---------------------------------------------------------------------------
NRRD_TYPES = {"uint8": "uchar", "int16": "short", "uint16": "ushort", "float32": "float", "int32": "int",
              "float64": "double"}


def make_nrrd():
    d = os.path.join(OUT, "nrrd")
    os.makedirs(d)
    rng = np.random.default_rng(80)
    size = (5, 4, 3)  # x, y, z
    directions = rotation_z(-25) @ np.diag([0.7, 0.9, 3.0])  # columns = axis vectors
    origin = [-12.5, 30.0, 4.0]
    geometry = geometry_from_affine(np.vstack([np.hstack([directions, np.array(origin)[:, None]]),
                                               [0, 0, 0, 1]]))

    def header(dtype, encoding, data_file=None):
        vectors = " ".join("(" + ",".join(repr(float(v)) for v in directions[:, i]) + ")" for i in range(3))
        lines = [
            "NRRD0004",
            "# written by generate_reader_fixtures.py",
            f"type: {NRRD_TYPES[dtype]}",
            "dimension: 3",
            "space: left-posterior-superior",
            f"sizes: {size[0]} {size[1]} {size[2]}",
            f"space directions: {vectors}",
            "kinds: domain domain domain",
            "endian: little",
            f"encoding: {encoding}",
            "space origin: (" + ",".join(repr(float(v)) for v in origin) + ")",
        ]
        if data_file:
            lines.append(f"data file: {data_file}")
        return ("\n".join(lines) + "\n\n").encode()

    cases = [("nrrd_raw_int16.nrrd", "int16", "raw", None),
             ("nrrd_gzip_float32.nrrd", "float32", "gzip", None),
             ("nhdr_raw_uint8.nhdr", "uint8", "raw", "nhdr_raw_uint8.raw"),
             ("nhdr_gzip_uint16.nhdr", "uint16", "gzip", "nhdr_gzip_uint16.raw.gz")]
    for name, dtype, encoding, data_file in cases:
        zyx = sample((size[2], size[1], size[0]), dtype, seed=len(name))
        if dtype == "uint8":
            zyx = rng.integers(0, 5, size=zyx.shape).astype(np.uint8)
        payload = zyx.astype(np.dtype(dtype).newbyteorder("<")).tobytes()
        if encoding == "gzip":
            payload = gzip_bytes(payload)
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(header(dtype, encoding, data_file))
            if not data_file:
                f.write(payload)
        if data_file:
            with open(os.path.join(d, data_file), "wb") as f:
                f.write(payload)
        record(path, zyx, dtype=dtype, shape=[1, 1] + list(zyx.shape), spatial=3, geometry=geometry)


MET_TYPES = {"uint8": "MET_UCHAR", "int16": "MET_SHORT", "float32": "MET_FLOAT", "uint16": "MET_USHORT",
             "int8": "MET_CHAR", "float64": "MET_DOUBLE", "int32": "MET_INT"}


def make_metaimage():
    d = os.path.join(OUT, "metaimage")
    os.makedirs(d)
    rng = np.random.default_rng(90)
    size = (6, 5, 4)
    spacing = [0.6, 0.7, 2.2]
    origin = [100.0, -50.25, 12.0]
    direction = rotation_z(15)  # columns = axis directions
    affine = np.eye(4)
    affine[:3, :3] = direction @ np.diag(spacing)
    affine[:3, 3] = origin
    geometry = geometry_from_affine(affine)

    def header(dtype, data_file, compressed=None):
        # MetaIO's TransformMatrix lists the direction matrix column by column
        # (the first three numbers are the direction of the x index axis).
        lines = [
            "ObjectType = Image",
            "NDims = 3",
            "BinaryData = True",
            "BinaryDataByteOrderMSB = False",
            f"CompressedData = {'True' if compressed is not None else 'False'}",
        ]
        if compressed is not None:
            lines.append(f"CompressedDataSize = {compressed}")
        lines += [
            "TransformMatrix = " + " ".join(repr(float(v)) for v in direction.T.reshape(-1)),
            "Offset = " + " ".join(repr(v) for v in origin),
            "CenterOfRotation = 0 0 0",
            "AnatomicalOrientation = RAI",
            "ElementSpacing = " + " ".join(repr(v) for v in spacing),
            f"DimSize = {size[0]} {size[1]} {size[2]}",
            f"ElementType = {MET_TYPES[dtype]}",
            f"ElementDataFile = {data_file}",
        ]
        return ("\n".join(lines) + "\n").encode()

    cases = [("local_uint8.mha", "uint8", None, False), ("local_float32.mha", "float32", None, False),
             ("local_zlib_int16.mha", "int16", None, True), ("separate_int16.mhd", "int16", "separate_int16.raw", False)]
    for name, dtype, data_file, compress in cases:
        zyx = sample((size[2], size[1], size[0]), dtype, seed=len(name) + 7)
        if dtype == "uint8":
            zyx = rng.integers(0, 3, size=zyx.shape).astype(np.uint8)
        payload = zyx.astype(np.dtype(dtype).newbyteorder("<")).tobytes()
        if compress:
            payload = zlib.compress(payload, 9)
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(header(dtype, data_file or "LOCAL", len(payload) if compress else None))
            if not data_file:
                f.write(payload)
        if data_file:
            with open(os.path.join(d, data_file), "wb") as f:
                f.write(payload)
        record(path, zyx, dtype=dtype, shape=[1, 1] + list(zyx.shape), spatial=3, geometry=geometry)


# ---------------------------------------------------------------------------
def png_bytes(array, color_type, interlaced=False):
    """A minimal PNG encoder: filter type 0 on every row, one IDAT chunk;
    Adam7 passes when `interlaced`."""
    height, width = array.shape[:2]
    bit_depth = array.dtype.itemsize * 8
    big_endian = array.astype(array.dtype.newbyteorder(">"))
    if interlaced:
        passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
        rows = b""
        for x0, y0, dx, dy in passes:
            sub = big_endian[y0::dy, x0::dx]
            if sub.size:
                rows += b"".join(b"\x00" + sub[r].tobytes() for r in range(sub.shape[0]))
    else:
        rows = b"".join(b"\x00" + big_endian[r].tobytes() for r in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 1 if interlaced else 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows, 9)) +
            chunk(b"IEND", b""))


def tiff_bytes(array, byte_order="<"):
    """A minimal baseline TIFF: one uncompressed strip, BlackIsZero grayscale."""
    height, width = array.shape
    bits = array.dtype.itemsize * 8
    data = array.astype(array.dtype.newbyteorder(byte_order)).tobytes()
    entries = [
        (256, 3, 1, width),        # ImageWidth
        (257, 3, 1, height),       # ImageLength
        (258, 3, 1, bits),         # BitsPerSample
        (259, 3, 1, 1),            # Compression: none
        (262, 3, 1, 1),            # PhotometricInterpretation: BlackIsZero
        (273, 4, 1, None),         # StripOffsets (filled below)
        (277, 3, 1, 1),            # SamplesPerPixel
        (278, 3, 1, height),       # RowsPerStrip
        (279, 4, 1, len(data)),    # StripByteCounts
        (284, 3, 1, 1),            # PlanarConfiguration: chunky
        (339, 3, 1, 1),            # SampleFormat: unsigned integer
    ]
    ifd_offset = 8
    ifd_size = 2 + 12 * len(entries) + 4
    data_offset = ifd_offset + ifd_size
    out = (b"II" if byte_order == "<" else b"MM") + struct.pack(byte_order + "HI", 42, ifd_offset)
    out += struct.pack(byte_order + "H", len(entries))
    for tag, kind, count, value in entries:
        if value is None:
            value = data_offset
        if kind == 3:
            field = struct.pack(byte_order + "HH", value, 0)
        else:
            field = struct.pack(byte_order + "I", value)
        out += struct.pack(byte_order + "HHI", tag, kind, count) + field
    out += struct.pack(byte_order + "I", 0)
    assert len(out) == data_offset
    return out + data


def packbits(data):
    """PackBits (TIFF compression 32773): literal runs and repeat runs of <= 128."""
    out = bytearray()
    i = 0
    while i < len(data):
        run = 1
        while i + run < len(data) and run < 128 and data[i + run] == data[i]:
            run += 1
        if run >= 2:
            out += bytes([257 - run, data[i]])
            i += run
            continue
        start = i
        while i < len(data) and i - start < 128 and not (i + 1 < len(data) and data[i + 1] == data[i]):
            i += 1
        if i == start:
            i += 1
        out += bytes([i - start - 1]) + data[start:i]
    return bytes(out)


def lzw(data):
    """TIFF LZW (compression 5): MSB-first codes of 9-12 bits, clear at 4094."""
    bits, nbits, out = 0, 0, bytearray()

    def emit(code, width):
        nonlocal bits, nbits
        bits = (bits << width) | code
        nbits += width
        while nbits >= 8:
            nbits -= 8
            out.append((bits >> nbits) & 0xFF)

    table = {bytes([i]): i for i in range(256)}
    next_code, width = 258, 9
    emit(256, width)
    word = b""
    for value in data:
        extended = word + bytes([value])
        if extended in table:
            word = extended
            continue
        emit(table[word], width)
        table[extended] = next_code
        next_code += 1
        # The decoder adds its entries one code later, so switching here when
        # the table outgrows the width is TIFF's "early change" for it.
        if next_code == 4094:
            emit(256, width)
            table = {bytes([i]): i for i in range(256)}
            next_code, width = 258, 9
        elif next_code > (1 << width) - 1:
            width += 1
        word = bytes([value])
    if word:
        emit(table[word], width)
        next_code += 1
        if next_code > (1 << width) - 1 and width < 12:
            width += 1
    emit(257, width)
    if nbits:
        out.append((bits << (8 - nbits)) & 0xFF)
    return bytes(out)


def tiff_stack_bytes(pages, byte_order="<", compression=1, rows_per_strip=None, tile=None, big=False,
                     predictor=1):
    """A TIFF of one or more equal grayscale pages (2D arrays) with the given
    compression (1 none, 5 LZW, 8 Deflate, 32773 PackBits), strips of
    rows_per_strip rows or square tiles of `tile` pixels, classic or BigTIFF."""
    height, width = pages[0].shape
    dtype = pages[0].dtype
    row_bytes = (tile or width) * dtype.itemsize

    def packbits_rows(piece):
        # TIFF 6.0: PackBits runs must not cross rows (libtiff decodes row by row).
        return b"".join(packbits(piece[r:r + row_bytes]) for r in range(0, len(piece), row_bytes))

    codecs = {1: lambda b: b, 5: lzw, 8: lambda b: zlib.compress(b, 9), 32773: packbits_rows}
    bits = dtype.itemsize * 8
    sample_format = {"u": 1, "i": 2, "f": 3}[dtype.kind]
    count_fmt, entry_count_fmt, offset_fmt = ("Q", "Q", "Q") if big else ("I", "H", "I")
    entry_size = 20 if big else 12
    inline = 8 if big else 4
    header = (b"II" if byte_order == "<" else b"MM") + (
        struct.pack(byte_order + "HHHQ", 43, 8, 0, 0) if big else struct.pack(byte_order + "HI", 42, 0))
    blob = bytearray(header)
    ifd_offsets = []
    for page in pages:
        if predictor == 2:
            # Horizontal differencing: each sample minus its left neighbour (wrapping).
            diff = page.copy()
            diff[:, 1:] = page[:, 1:] - page[:, :-1]  # numpy integer arithmetic wraps like the codec's
            page = diff
        raw_page = page.astype(dtype.newbyteorder(byte_order))
        pieces = []
        if tile:
            for ty in range(0, height, tile):
                for tx in range(0, width, tile):
                    block = np.zeros((tile, tile), dtype=raw_page.dtype)
                    part = raw_page[ty:ty + tile, tx:tx + tile]
                    block[:part.shape[0], :part.shape[1]] = part
                    pieces.append(block.tobytes())
        else:
            rows = rows_per_strip or height
            for y in range(0, height, rows):
                pieces.append(raw_page[y:y + rows].tobytes())
        offsets, counts = [], []
        for piece in pieces:
            packed = codecs[compression](piece)
            offsets.append(len(blob))
            counts.append(len(packed))
            blob += packed
            if len(blob) % 2:
                blob += b"\0"
        entries = [(256, 4, [width]), (257, 4, [height]), (258, 3, [bits]), (259, 3, [compression]),
                   (262, 3, [1]), (277, 3, [1]), (284, 3, [1]), (339, 3, [sample_format])]
        if predictor != 1:
            entries.append((317, 3, [predictor]))
        if tile:
            entries += [(322, 3, [tile]), (323, 3, [tile]), (324, 16 if big else 4, offsets),
                        (325, 16 if big else 4, counts)]
        else:
            entries += [(273, 16 if big else 4, offsets), (278, 4, [rows_per_strip or height]),
                        (279, 16 if big else 4, counts)]
        entries.sort()
        sizes = {3: 2, 4: 4, 16: 8}
        fmts = {3: "H", 4: "I", 16: "Q"}
        # Out-of-line value arrays first, then the directory.
        placed = []
        for tag, kind, values in entries:
            payload = struct.pack(byte_order + fmts[kind] * len(values), *values)
            if len(payload) > inline:
                at = len(blob)
                blob += payload
                placed.append((tag, kind, len(values), struct.pack(byte_order + offset_fmt, at)))
            else:
                placed.append((tag, kind, len(values), payload.ljust(inline, b"\0")))
        if len(blob) % 2:
            blob += b"\0"
        ifd_offsets.append(len(blob))
        blob += struct.pack(byte_order + entry_count_fmt, len(placed))
        for tag, kind, count, field in placed:
            blob += struct.pack(byte_order + "HH" + count_fmt, tag, kind, count) + field
        blob += b"\0" * inline  # next IFD: patched below
        assert entry_size == (20 if big else 12)
    # Link the directories.
    first_at = 8 if big else 4
    struct.pack_into(byte_order + offset_fmt, blob, first_at, ifd_offsets[0])
    for i, at in enumerate(ifd_offsets[:-1]):
        entries_n = struct.unpack_from(byte_order + entry_count_fmt, blob, at)[0]
        next_field = at + (8 if big else 2) + entries_n * entry_size
        struct.pack_into(byte_order + offset_fmt, blob, next_field, ifd_offsets[i + 1])
    return bytes(blob)


def make_2d():
    d = os.path.join(OUT, "image2d")
    os.makedirs(d)
    rng = np.random.default_rng(100)
    # Asymmetric content so a vertical flip is caught.
    gray8 = rng.integers(0, 256, size=(5, 7)).astype(np.uint8)
    gray8[0, 0] = 255
    gray8[-1, -1] = 0
    gray16 = rng.integers(0, 65536, size=(6, 3)).astype(np.uint16)
    gray16[0, :] = [1, 258, 65535]
    for name, array in (("gray8.png", gray8), ("gray16.png", gray16)):
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(png_bytes(array, color_type=0))
        record(path, array)
    # Adam7 interlacing (libpng decodes it; MaskLens checks each pass's filter bytes).
    odd = rng.integers(0, 65536, size=(13, 11)).astype(np.uint16)
    path = os.path.join(d, "gray16_interlaced.png")
    with open(path, "wb") as f:
        f.write(png_bytes(odd, color_type=0, interlaced=True))
    record(path, odd)
    rgb = rng.integers(0, 256, size=(4, 4, 3)).astype(np.uint8)
    with open(os.path.join(d, "rgb.png"), "wb") as f:
        f.write(png_rgb(rgb))
    for name, array, order in (("gray8.tif", gray8, "<"), ("gray16.tif", gray16, "<"),
                               ("gray16_be.tiff", gray16, ">")):
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(tiff_bytes(array, order))
        record(path, array)
    # What other writers produce: compressed strips, tiles, stacks, BigTIFF. Checked
    # against tifffile 2026.3.3 (+ imagecodecs) in a venv once, 2026-11-29: equal arrays.
    d3 = os.path.join(OUT, "tiff")
    os.makedirs(d3)
    ramp = (np.arange(37 * 29).reshape(37, 29) // 7 % 251).astype(np.uint8)
    probs = rng.random(size=(23, 40)).astype(np.float32)
    labels = rng.integers(-3, 4, size=(33, 18)).astype(np.int16)
    stack = [rng.integers(0, 3, size=(19, 21)).astype(np.uint16) for _ in range(3)]
    variants = [
        ("lzw_uint8.tif", [ramp], dict(compression=5, rows_per_strip=8)),
        ("lzw_noise_uint8.tif", [rng.integers(0, 256, size=(70, 90)).astype(np.uint8)], dict(compression=5)),
        ("deflate_float32.tif", [probs], dict(compression=8, rows_per_strip=5)),
        ("packbits_int16_be.tif", [labels], dict(compression=32773, byte_order=">", rows_per_strip=4)),
        ("tiled_deflate_float32.tif", [probs], dict(compression=8, tile=16)),
        ("stack_lzw_uint16.tif", stack, dict(compression=5)),
        ("bigtiff_uint8.tif", [ramp], dict(big=True, rows_per_strip=10)),
        ("lzw_predictor_uint16_be.tif", [stack[0] * 9000], dict(compression=5, predictor=2, byte_order=">")),
        ("deflate_predictor_int8.tif", [labels.astype(np.int8)], dict(compression=8, predictor=2, rows_per_strip=7)),
    ]
    for name, pages, options in variants:
        path = os.path.join(d3, name)
        with open(path, "wb") as f:
            f.write(tiff_stack_bytes(pages, **options))
        if name.startswith("tiled"):
            continue  # refused by MaskLens (VTK 9.1 misplaces tiles); tst_image_reader checks that
        if len(pages) == 1:
            record(path, pages[0])
        else:
            volume = np.stack(pages)
            record(path, volume, shape=[1, 1] + list(volume.shape), spatial=3)


def png_rgb(rgb):
    height, width, _ = rgb.shape
    rows = b"".join(b"\x00" + rgb[r].tobytes() for r in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows, 9)) +
            chunk(b"IEND", b""))


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    make_npy()
    make_npz()
    make_nifti()
    make_nrrd()
    make_metaimage()
    make_2d()
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        # One fixture per line keeps diffs readable.
        f.write('{"generator": "tests/generate_reader_fixtures.py",\n "fixtures": [\n  ')
        f.write(",\n  ".join(json.dumps(entry) for entry in expected))
        f.write("\n ]\n}\n")
    total = sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(OUT) for name in names)
    print(f"wrote {len(expected)} expected entries, {total} bytes in {OUT}")


if __name__ == "__main__":
    main()
