// Reading files by memory-mapping them (opt-in per process).
//
// With FileMapping::All, the readers hand the engine the file's own bytes where
// no conversion is needed (.npy in C order, .nii, raw NRRD / MetaImage; the
// file's byte order equal to the machine's; at least 4 MiB of elements): the
// Volume is a read-only view (Volume::view) whose keep-alive owns the mapping,
// so a warm page cache is read without a copy or fresh-memory page faults.
// Everything else (gzip, byte swaps, Fortran order, small arrays) is read
// into the Volume's own memory as before. Compressed inputs (.nii.gz and
// other gzip or zlib data inflated whole) are mapped with CompressedInputs
// or All: the inflate reads the file's pages instead of a fresh copy of
// them, and the mapping is checked and dropped when the inflate ends, so no
// Volume views the file.
//
// A mapped file that shrinks while it is read would raise SIGBUS. A
// process-wide SIGBUS handler (installed with the first mapping, chaining to
// the previous handler for faults elsewhere) maps zero pages over the rest of
// the damaged mapping and marks it; check_unchanged() then throws. So a
// program that turns All on must call check_unchanged() on each volume
// after it has read (evaluated) it and before it trusts the result:
// cli::evaluate_command and the folder runs do (the readers check a
// compressed input themselves, after its inflate). masklens-cli turns All on;
// the desktop app CompressedInputs only (it keeps volumes open for a long
// time, and a file truncated later would turn what it shows into zeros after
// the check); the Python package neither (Python may install its own SIGBUS
// handlers, e.g. faulthandler).
#pragma once

#include "masklens/engine/volume.h"

#include <cstdint>

namespace masklens::io {

// What the readers of this process map.
enum class FileMapping {
    Off,              // every file is read into memory of its own (the default)
    CompressedInputs, // compressed data is mapped while it is inflated
    All,              // and uncompressed voxels are viewed in place
};
void set_file_mapping(FileMapping mode);
FileMapping file_mapping();

// Throws Error(Input) naming the mapped file, "the file changed or shrank
// while it was read", when `volume` views a mapped file that shrank (a read
// met the end of the file: SIGBUS, its pages were replaced by zeros) or whose
// size or modification time differs from when it was mapped. Does nothing
// for a volume in its own memory or a caller's view.
void check_unchanged(const Volume& volume);

// True when `volume` views a mapped file (for tests and benchmarks).
bool is_mapped(const Volume& volume);

// How many file ranges the readers of this process have mapped so far,
// compressed inputs included (for tests and benchmarks).
std::uint64_t mappings_made();

} // namespace masklens::io
