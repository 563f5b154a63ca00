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

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data", "readers")

expected = []


def flat_values(array):
    """The elements in C order as exact decimal strings."""
    out = []
    for v in np.ascontiguousarray(array).ravel(order="C").tolist():
        if isinstance(v, bool):
            out.append("1" if v else "0")
        elif isinstance(v, int):
            out.append(str(v))
        else:
            out.append(repr(float(v)))
    return out


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
def png_bytes(array, color_type):
    """A minimal PNG encoder: filter type 0 on every row, one IDAT chunk."""
    height, width = array.shape[:2]
    bit_depth = array.dtype.itemsize * 8
    big_endian = array.astype(array.dtype.newbyteorder(">"))
    rows = b"".join(b"\x00" + big_endian[r].tobytes() for r in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
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
    rgb = rng.integers(0, 256, size=(4, 4, 3)).astype(np.uint8)
    with open(os.path.join(d, "rgb.png"), "wb") as f:
        f.write(png_rgb(rgb))
    for name, array, order in (("gray8.tif", gray8, "<"), ("gray16.tif", gray16, "<"),
                               ("gray16_be.tiff", gray16, ">")):
        path = os.path.join(d, name)
        with open(path, "wb") as f:
            f.write(tiff_bytes(array, order))
        record(path, array)


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
