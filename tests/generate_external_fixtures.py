#!/usr/bin/env python3
"""Reader fixtures written by OUTSIDE libraries, for tests/io/tst_external_fixtures.cpp.

tests/generate_reader_fixtures.py writes its NRRD, MetaImage and TIFF bytes
with its own small writers, so a reader and that generator could share a
misreading of the format (e.g. which byte order 'endian: big' means). Here
every file is written by a library that MaskLens does not share code with:

  * NRRD (.nrrd) and detached NRRD (.nhdr + .raw / .raw.gz): pynrrd
  * MetaImage (.mha, .mhd + .raw / .zraw): SimpleITK (ITK's MetaIO)
  * NIfTI-1 (.nii, .nii.gz): nibabel
  * TIFF (.tif): tifffile
  * NPY (.npy): numpy

for every dtype MaskLens's reader for that format accepts, in little- and
big-endian byte order (one-byte types once). ITK writes MetaImage in the
machine's byte order only; the big-endian MetaImage files are SimpleITK's
little-endian output with the data bytes swapped and the header's
BinaryDataByteOrderMSB / ElementByteOrderMSB set to True by this script, and
each is read back with SimpleITK, which must give the original array. Every
other file is read back with its own writer library too (an assert).

The expected contents go to tests/data/readers_external/expected.json in the
format tests/io/reader_test_support.h reads: the PyTorch shape, the dtype,
every element as an exact decimal string (64-bit integers survive), and the
geometry (spacing, origin, row-major direction whose columns are the x, y, z
index axes), all taken from the numpy arrays and affines given to the
writers, never from MaskLens. Integer data holds the type's minimum and
maximum and values whose bytes are not palindromes (256, 512, 258, ...), so
a missing or wrong byte swap changes them; the big-endian int16 NRRD label
map holds labels 256 and 512 (issue 20: a reader that did not swap 16-bit
items read them as 1 and 2 and no test failed).

Needs a virtual environment with Debian's numpy and nibabel:

    /usr/bin/python3 -m venv --system-site-packages /work/venv-fixtures
    /work/venv-fixtures/bin/pip install pynrrd SimpleITK tifffile
    /work/venv-fixtures/bin/python tests/generate_external_fixtures.py

The outputs are committed; tests never run this script (no network, no
Python needed to run the tests). A rerun gives the same arrays and files
except the date pynrrd writes in its header comment.
"""

import gzip
import json
import os
import shutil

import nibabel as nib
import nrrd
import numpy as np

from fixture_values import flat_values
import SimpleITK as sitk
import tifffile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data", "readers_external")

INT_TYPES = ["int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"]
FLOAT_TYPES = ["float32", "float64"]
# What each MaskLens reader accepts (engine/io/src/*_reader.cpp). NPY also
# takes bool and float16; the image formats have no such types.
FORMAT_TYPES = {
    "nrrd": INT_TYPES + FLOAT_TYPES,
    "nhdr": INT_TYPES + FLOAT_TYPES,
    "mha": INT_TYPES + FLOAT_TYPES,
    "mhd": INT_TYPES + FLOAT_TYPES,
    "nii": INT_TYPES + FLOAT_TYPES,
    "tif": INT_TYPES + FLOAT_TYPES,
    "npy": ["bool"] + INT_TYPES + ["float16"] + FLOAT_TYPES,
}

expected = []


def orders(dtype):
    return ["le"] if np.dtype(dtype).itemsize == 1 else ["le", "be"]


def with_order(dtype, order):
    base = np.dtype(dtype)
    if base.itemsize == 1:
        return base
    return base.newbyteorder("<" if order == "le" else ">")


def values(dtype, shape, seed):
    """A small array of `dtype` (native order) whose bytes expose byte-order mistakes."""
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    if dtype.kind == "b":
        return (rng.integers(0, 2, size=n) == 1).reshape(shape)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        special = [0, 1, 2, info.min, info.max]
        if dtype.itemsize >= 2:
            special += [256, 512, 258, 0x1234 if dtype.itemsize == 2 else 0x12345678]
        if dtype.kind == "i":
            special += [-2, -256] if dtype.itemsize >= 2 else [-2]
        a = rng.integers(info.min, info.max, size=n, dtype=dtype, endpoint=True)
        a[: len(special)] = np.array(special, dtype=object).astype(dtype)
        return a.reshape(shape)
    a = (rng.standard_normal(size=n) * 100).astype(dtype)
    special = [0.0, 1.0, 0.5, -2.25, 256.0, np.finfo(dtype).max, np.finfo(dtype).tiny, -0.0]
    a[: len(special)] = np.array(special, dtype=dtype)
    return a.reshape(shape)


def geometry(spacing, origin, direction):
    """direction: 3x3, columns = world directions of the x, y, z index axes."""
    return {
        "known": True,
        "spacing": [float(v) for v in spacing],
        "origin": [float(v) for v in origin],
        "direction": [float(v) for v in np.asarray(direction, dtype=float).reshape(-1)],
    }


def record(path, fmt, dtype, order, zyx, geo, what=""):
    """zyx: the array in C order [Z, Y, X] (or [Y, X] for 2D)."""
    dims = list(zyx.shape)
    if len(dims) == 2 or dims[0] == 1 and fmt != "npy":
        shape, spatial = [1, 1] + dims[-2:], 2
    else:
        shape, spatial = [1, 1] + dims, 3
    expected.append({
        "file": os.path.relpath(path, OUT),
        "format": fmt,
        "byte_order": order,
        "writer": what,
        "layout": "auto",
        "key": "",
        "shape": shape,
        "spatial_dims": spatial,
        "dtype": np.dtype(dtype).name,
        "values": flat_values(zyx),
        "geometry": geo,
    })


def rotation_z(degrees):
    t = np.radians(degrees)
    return np.array([[np.cos(t), -np.sin(t), 0.0], [np.sin(t), np.cos(t), 0.0], [0.0, 0.0, 1.0]])


# --------------------------------------------------------------------------- NRRD
def make_nrrd():
    d = os.path.join(OUT, "nrrd")
    os.makedirs(d)
    zyx_shape = (2, 3, 4)
    directions = rotation_z(20) @ np.diag([0.7, 0.9, 2.5])  # columns: x, y, z axis vectors
    origin = [-12.5, 30.0, 4.0]
    geo = geometry([0.7, 0.9, 2.5], origin, rotation_z(20))
    seed = 100
    for fmt in ("nrrd", "nhdr"):
        for dtype in FORMAT_TYPES[fmt]:
            for order in orders(dtype):
                seed += 1
                zyx = values(dtype, zyx_shape, seed)
                encoding = "gzip" if (fmt == "nhdr") == (order == "le") else "raw"
                path = os.path.join(d, f"{fmt}_{dtype}_{order}_{encoding}.{fmt}")
                header = {
                    "space": "left-posterior-superior",
                    # pynrrd: one row per axis in file order (x first).
                    "space directions": directions.T,
                    "space origin": np.array(origin),
                    "kinds": ["domain", "domain", "domain"],
                    "encoding": encoding,
                }
                nrrd.write(path, zyx.astype(with_order(dtype, order)), header, index_order="C",
                           detached_header=(fmt == "nhdr"), compression_level=9)
                back, back_header = nrrd.read(path, index_order="C")
                assert np.array_equal(back, zyx) and back.dtype.itemsize == zyx.dtype.itemsize, path
                if np.dtype(dtype).itemsize > 1:
                    assert back_header["endian"] == ("little" if order == "le" else "big"), back_header
                record(path, fmt, dtype, order, zyx, geo, f"pynrrd {nrrd.__version__}")
    # The issue's surviving bug: a big-endian int16 label map with labels 256 and 512.
    labels = np.zeros(zyx_shape, dtype=np.int16)
    labels[0, 1, 1:3] = 256
    labels[1, :, 2:] = 512
    labels[1, 0, 0] = 1
    path = os.path.join(d, "labels_256_512_int16_be.nrrd")
    nrrd.write(path, labels.astype(">i2"), {"space directions": directions.T, "space origin": np.array(origin),
                                             "space": "left-posterior-superior", "encoding": "raw"},
               index_order="C")
    back, back_header = nrrd.read(path, index_order="C")
    assert back_header["endian"] == "big" and np.array_equal(back, labels)
    record(path, "nrrd", "int16", "be", labels, geo, f"pynrrd {nrrd.__version__}")


# --------------------------------------------------------------------------- MetaImage
def swap_metaimage(path):
    """ITK writes the machine's byte order (little-endian here): make `path`
    big-endian by swapping its data bytes and marking the header MSB."""
    with open(path, "rb") as f:
        blob = f.read()
    lines = []
    pos = 0
    data_file = None
    element = None
    while True:
        end = blob.index(b"\n", pos)
        line = blob[pos:end].decode()
        pos = end + 1
        key, _, value = (part.strip() for part in line.partition("="))
        if key in ("BinaryDataByteOrderMSB", "ElementByteOrderMSB"):
            line = f"{key} = True"
        if key == "CompressedData":
            assert value == "False", "swap only uncompressed data"
        if key == "ElementType":
            element = value
        lines.append(line)
        if key == "ElementDataFile":
            data_file = value
            break
    item = {"MET_SHORT": 2, "MET_USHORT": 2, "MET_INT": 4, "MET_UINT": 4, "MET_LONG_LONG": 8,
            "MET_ULONG_LONG": 8, "MET_FLOAT": 4, "MET_DOUBLE": 8}[element]
    assert any(line.startswith("BinaryDataByteOrderMSB") for line in lines)

    def swapped(raw):
        return np.frombuffer(raw, dtype=f"u{item}").byteswap().tobytes()

    header = ("\n".join(lines) + "\n").encode()
    if data_file == "LOCAL":
        with open(path, "wb") as f:
            f.write(header + swapped(blob[pos:]))
    else:
        data_path = os.path.join(os.path.dirname(path), data_file)
        with open(data_path, "rb") as f:
            raw = f.read()
        with open(data_path, "wb") as f:
            f.write(swapped(raw))
        with open(path, "wb") as f:
            f.write(header)


def make_metaimage():
    d = os.path.join(OUT, "metaimage")
    os.makedirs(d)
    zyx_shape = (2, 3, 5)
    spacing = (0.6, 0.7, 2.2)
    origin = (100.0, -50.25, 12.0)
    direction = rotation_z(-15)
    geo = geometry(spacing, origin, direction)
    seed = 200
    for fmt in ("mha", "mhd"):
        for dtype in FORMAT_TYPES[fmt]:
            for order in orders(dtype):
                seed += 1
                zyx = values(dtype, zyx_shape, seed)
                image = sitk.GetImageFromArray(zyx)  # numpy [z, y, x] -> ITK size (x, y, z)
                image.SetSpacing(spacing)
                image.SetOrigin(origin)
                image.SetDirection([float(v) for v in direction.reshape(-1)])  # row-major, columns = axes
                compress = order == "le" and fmt == "mha" and dtype in ("uint8", "int16", "float32", "uint64")
                tag = "zlib" if compress else "raw"
                path = os.path.join(d, f"{fmt}_{dtype}_{order}_{tag}.{fmt}")
                sitk.WriteImage(image, path, useCompression=compress)
                writer = f"SimpleITK {sitk.Version_VersionString()}"
                if order == "be":
                    swap_metaimage(path)
                    writer += " (bytes swapped to big-endian by this script)"
                back = sitk.ReadImage(path)
                assert np.array_equal(sitk.GetArrayFromImage(back), zyx), path
                assert np.allclose(back.GetSpacing(), spacing) and np.allclose(back.GetOrigin(), origin)
                assert np.allclose(back.GetDirection(), direction.reshape(-1))
                record(path, fmt, dtype, order, zyx, geo, writer)


# --------------------------------------------------------------------------- NIfTI
def make_nifti():
    d = os.path.join(OUT, "nifti")
    os.makedirs(d)
    xyz_shape = (4, 3, 2)
    affine = np.eye(4)
    affine[:3, :3] = rotation_z(30) @ np.diag([0.8, 1.25, 2.5])
    affine[:3, 3] = [-10.0, 20.5, 3.25]
    geo = geometry([0.8, 1.25, 2.5], affine[:3, 3], rotation_z(30))
    seed = 300
    for dtype in FORMAT_TYPES["nii"]:
        for order in orders(dtype):
            seed += 1
            zyx = values(dtype, xyz_shape[::-1], seed)
            xyz = np.ascontiguousarray(zyx.T).astype(with_order(dtype, order))
            endian = "<" if order == "le" else ">"
            img = nib.Nifti1Image(xyz, affine, header=nib.Nifti1Header(endianness=endian), dtype=xyz.dtype)
            img.set_sform(affine, code=2)
            img.set_qform(affine, code=1)
            assert img.header.endianness == endian
            gz = dtype in ("uint8", "int16", "float32") and order == "be" or dtype == "uint64"
            path = os.path.join(d, f"nii_{dtype}_{order}.nii" + (".gz" if gz else ""))
            raw = img.to_bytes()
            with open(path, "wb") as f:
                # nibabel's own gzip writer stamps the time; mtime=0 keeps the file reproducible.
                f.write(gzip.compress(raw, compresslevel=9, mtime=0) if gz else raw)
            loaded = nib.load(path)
            assert loaded.header.endianness == endian
            back = np.asarray(loaded.dataobj.get_unscaled())
            assert np.array_equal(back, xyz) and back.dtype.itemsize == xyz.dtype.itemsize, path
            assert np.allclose(loaded.affine, affine)
            record(path, "nii", dtype, order, zyx, geo, f"nibabel {nib.__version__}")


# --------------------------------------------------------------------------- TIFF
def make_tiff():
    d = os.path.join(OUT, "tiff")
    os.makedirs(d)
    seed = 400
    for dtype in FORMAT_TYPES["tif"]:
        for order in orders(dtype):
            seed += 1
            stack = dtype in ("uint16", "float64")
            zyx = values(dtype, (2, 3, 5) if stack else (3, 5), seed)
            path = os.path.join(d, f"tif_{dtype}_{order}.tif")
            compression = "zlib" if dtype in ("int32", "float32") else None
            tifffile.imwrite(path, zyx, byteorder="<" if order == "le" else ">", photometric="minisblack",
                             metadata=None, compression=compression)
            with tifffile.TiffFile(path) as tif:
                assert tif.byteorder == ("<" if order == "le" else ">")
                assert np.array_equal(tif.asarray(), zyx), path
            record(path, "tif", dtype, order, zyx, {"known": False}, f"tifffile {tifffile.__version__}")


# --------------------------------------------------------------------------- NPY
def make_npy():
    d = os.path.join(OUT, "npy")
    os.makedirs(d)
    seed = 500
    for dtype in FORMAT_TYPES["npy"]:
        for order in orders(dtype):
            seed += 1
            zyx = values(dtype, (2, 3, 4), seed)
            path = os.path.join(d, f"npy_{dtype}_{order}.npy")
            np.save(path, zyx.astype(with_order(dtype, order)), allow_pickle=False)
            back = np.load(path)
            assert np.array_equal(back, zyx) and back.dtype == with_order(dtype, order), path
            record(path, "npy", dtype, order, zyx, {"known": False}, f"numpy {np.__version__}")


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    make_nrrd()
    make_metaimage()
    make_nifti()
    make_tiff()
    make_npy()
    # Every (format, dtype, byte order) the readers accept is present.
    have = {(e["format"], e["dtype"], e["byte_order"]) for e in expected}
    for fmt, dtypes in FORMAT_TYPES.items():
        for dtype in dtypes:
            for order in orders(dtype):
                assert (fmt, dtype, order) in have, (fmt, dtype, order)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        f.write('{"generator": "tests/generate_external_fixtures.py",\n')
        f.write(' "format_types": ' + json.dumps(FORMAT_TYPES) + ",\n")
        f.write(' "fixtures": [\n  ')
        f.write(",\n  ".join(json.dumps(entry) for entry in expected))
        f.write("\n ]\n}\n")
    total = sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(OUT) for name in names)
    print(f"wrote {len(expected)} fixtures, {total} bytes in {OUT}")


if __name__ == "__main__":
    main()
