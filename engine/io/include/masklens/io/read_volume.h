// Reading predictions and targets from disk.
//
// Formats: .npy, .npz (NumPy); .nii, .nii.gz (NIfTI-1/2); .nrrd, .nhdr (NRRD);
// .mha, .mhd (MetaImage); .png; .tif, .tiff. Files are opened read-only.
// Every failure is an Error(Kind::Input) whose file() is the path and whose
// message says what is wrong (never a crash, a hang or a huge allocation).
#pragma once

#include "masklens/engine/volume.h"

#include <cstdint>
#include <string>
#include <vector>

namespace masklens::io {

enum class Layout {
    Auto, // [H,W] -> [1,1,H,W]; [D,H,W] -> [1,1,D,H,W]; 4D NCHW; 5D NCDHW
    NHW,  // a 3D array is a batch of 2D masks: [N,H,W] -> [N,1,H,W]
};

struct ReadOptions {
    Layout layout = Layout::Auto;
    std::string npz_key; // which array of an .npz; empty: the file must hold exactly one
};

// The [N,C,D,H,W] shape of an in-memory array with extents `dims` (C order),
// interpreted as a .npy file's array is (Layout). Throws Error(Input) naming
// `source` for 0, 1 or more than 5 dimensions and for empty extents, with the
// .npy reader's messages. Used by the Python package for caller arrays.
Shape array_shape(const std::string& source, const std::vector<std::int64_t>& dims, Layout layout);

// Reads any supported format, chosen by extension (case-insensitive).
// Image formats (NIfTI, NRRD, MetaImage) give one sample, one channel:
// an X x Y x Z volume becomes [1, 1, Z, Y, X] with geometry from the header;
// 2D images (PNG, TIFF, or Z == 1) become [1, 1, Y, X].
Volume read_volume(const std::string& path, const ReadOptions& options = {});

// A prediction and its target, read at the same time on two threads when the
// machine has two or more (decompressing a .nii.gz pair is most of opening
// it). Errors as read_volume's; when both files fail, the prediction's error
// is the one thrown, as if they had been read one after the other.
struct VolumePair {
    Volume prediction;
    Volume target;
};
VolumePair read_volume_pair(const std::string& prediction_path, const ReadOptions& prediction_options,
                            const std::string& target_path, const ReadOptions& target_options);

// Detached data files (NRRD "data file", MetaImage ElementDataFile) are read
// only from the header's folder or its subfolders: a header naming an absolute
// path or climbing out with ".." is refused, so that a file from elsewhere
// cannot make MaskLens read other files. Users who trust their headers opt in
// for the process with set_outside_data_allowed(true) (masklens-cli
// --allow-outside-data) or the environment variable
// MASKLENS_ALLOW_OUTSIDE_DATA=1 (any program, the app included).
void set_outside_data_allowed(bool allowed);
bool outside_data_allowed();

// The individual readers (read_volume dispatches to them).
Volume read_npy(const std::string& path, const ReadOptions& options = {});
Volume read_npz(const std::string& path, const ReadOptions& options = {});
// NIfTI, NRRD, MetaImage, TIFF and PNG (libpng).
Volume read_image(const std::string& path);

} // namespace masklens::io
