// Surface-distance metrics: Hausdorff distance, percentile Hausdorff (HD95),
// average symmetric surface distance (ASSD) and normalized surface Dice (NSD).
//
// Definitions (MONAI's HausdorffDistanceMetric, SurfaceDistanceMetric with
// symmetric=True and SurfaceDiceMetric, i.e. monai.metrics.utils get_mask_edges
// + get_surface_distance with distance_metric="euclidean"):
//   surface S(M)   mask voxels with at least one face neighbour (6-connectivity
//                  in 3D, 4 in 2D) that is background or outside the image
//                  (M xor binary_erosion(M), scipy's default structure and
//                  border_value=0).
//   d(x, B)        Euclidean distance in mm between the centre of voxel x and
//                  the nearest centre of a voxel of S(B) (the other mask's
//                  *surface*, not its interior), exact, with anisotropic spacing.
//   D_PT, D_TP     {d(x, T) : x in S(P)} and {d(y, P) : y in S(T)}.
//   hd             max(max D_PT, max D_TP).
//   hd_percentile  percentile p (numpy.percentile, linear interpolation) by rule:
//                    Max    max(pctl(D_PT), pctl(D_TP))      (MONAI, default)
//                    Pooled pctl(D_PT concatenated with D_TP) (medpy, seg-metrics)
//                    Mean   (pctl(D_PT) + pctl(D_TP)) / 2     (plastimatch)
//   assd           mean of D_PT concatenated with D_TP.
//   nsd            (#{D_PT <= tau} + #{D_TP <= tau}) / (|S(P)| + |S(T)|).
// Empty masks: both empty -> every value NaN; exactly one empty -> hd,
// hd_percentile and assd +inf, nsd 0 (MONAI). nsd is NaN when no tolerance is
// given.
//
// Surface mode Subvoxel (DeepMind surface-distance, compute_surface_distances):
//   surfels        the voxel corners (grid of (D+1) x (H+1) x (W+1) points, one
//                  half voxel outside the image on every side) whose 2x2x2
//                  (2D: 2x2) neighbourhood of voxel centres is neither all
//                  inside nor all outside the mask.
//   area a(s)      area in mm^2 (2D: contour length in mm) of the marching-cubes
//                  surface inside that neighbourhood's cell: polygons through
//                  the cell's edge midpoints (a face whose diagonal corners
//                  agree separates the corners of the minority side, so a code
//                  and its complement share one surface), each triangulated as
//                  the fan from the vertex giving the largest area in voxel
//                  units, triangle areas scaled by the spacing. This reproduces
//                  DeepMind's lookup tables for every code (tests check it).
//   d(s, B)        Euclidean distance in mm from surfel s to the nearest surfel
//                  of B (corner to corner), exact.
//   hd             max of all distances (unweighted).
//   pctl_w(D, A, p) the distance of the first surfel, in order of (distance,
//                  area), whose cumulative area fraction is >= p / 100
//                  (DeepMind's compute_robust_hausdorff); rules as above with
//                  pctl_w (Max is DeepMind's).
//   assd           area-weighted mean of both directions pooled,
//                  (sum a d over both) / (sum a over both); the directed
//                  area-weighted means (compute_average_surface_distance) are
//                  mean_pred_to_target and mean_target_to_pred.
//   nsd            area fraction within tau (compute_surface_dice_at_tolerance).
// Empty masks as above. surface_distance_map always uses voxel surfaces.
//
// Implementation: surfaces are extracted inside the joint bounding box of both
// masks -- exact, since both surfaces lie in it and a voxel's face neighbours
// outside it are background. Voxel mode then finds each surface voxel's
// distance to the other surface by one of two exact methods, chosen by an
// estimated cost (SurfaceDistanceOptions::search): a search at the surface
// voxels only (thin surfaces: the usual case; surfaces that fill much of the
// box take it too when a probe of a few hundred queries finds their answers
// close), or the exact squared EDT (distance_transform.h) over the box
// (surfaces filling much of the box with answers far away). The search
// packs each surface into one bit per voxel along W and visits the rows
// around a query outward, reading each row's nearest voxel
// with bit scans until no row can be closer; answers farther than a few
// hundred rows go to a k-d tree over the other surface's voxels, built only
// when needed. All of them form squared distances in the same arithmetic and
// give the same values. Percentiles use selection
// (std::nth_element). Per-slice values come from one batched pass over all
// slices (parallel over slices). Subvoxel mode chooses the same way on the grid
// of voxel corners (surfels are found at corners, with the voxels' spacing).
#pragma once

#include "masklens/engine/distance_transform.h"
#include "masklens/engine/metrics.h"
#include "masklens/engine/volume.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace masklens {

// HausdorffRule is declared in metrics.h (Max, Pooled, Mean).

// SurfaceMode is declared in metrics.h. Voxel: MONAI's voxel-centre surfaces
// (default). Subvoxel: DeepMind's area-weighted surface elements on voxel
// corners (see above).

// How voxel-mode distances are found (see Implementation above). Both give
// the same values; Auto picks the cheaper one by an estimated cost. The
// others force one method (tests, benchmarks); a surface of 2^30 voxels or
// more always takes the EDT.
enum class SurfaceSearch {
    Auto,
    DistanceTransform, // two exact EDTs over the surfaces' joint bounding box
    NearestNeighbour,  // exact search at surface voxels only (rows of bits, k-d tree for far answers)
};

struct SurfaceDistanceOptions {
    double percentile = 95; // in [0, 100]
    HausdorffRule rule = HausdorffRule::Max;
    std::optional<double> nsd_tolerance_mm;           // tau >= 0; nsd is NaN without it
    std::array<double, 3> spacing_xyz{1.0, 1.0, 1.0}; // mm, (W, H, D) order like Geometry
    int threads = 0;                                  // 0: all hardware threads
    SurfaceMode surface = SurfaceMode::Voxel;
    SurfaceSearch search = SurfaceSearch::Auto; // voxel centres or, in Subvoxel mode, surfel corners
    // When set and becoming true, the computation stops with Error(Cancelled)
    // (checked between its passes and between chunks of the voxel-mode search).
    const std::atomic<bool>* cancel = nullptr;
};

struct SurfaceDistances {
    double hd = 0;
    double hd_percentile = 0; // per options.percentile and options.rule
    double assd = 0;
    double nsd = 0;
    // Components, for reports and for checking other tools' definitions.
    double percentile_pred_to_target = 0;   // pctl(D_PT)
    double percentile_target_to_pred = 0;   // pctl(D_TP)
    double max_pred_to_target = 0;          // max(D_PT): directed Hausdorff
    double max_target_to_pred = 0;          // max(D_TP)
    double mean_pred_to_target = 0;         // mean(D_PT)
    double mean_target_to_pred = 0;         // mean(D_TP)
    std::int64_t pred_surface_voxels = 0;   // |S(P)|
    std::int64_t target_surface_voxels = 0; // |S(T)|  (Subvoxel: number of surfels)
    // Subvoxel only: total surfel area, mm^2 (2D: contour length, mm); 0 in Voxel mode.
    double pred_surface_area = 0;
    double target_surface_area = 0;
};

// Dimensions of one mask, C order [D, H, W]. spatial_dims == 2 requires d == 1
// and uses 4-connectivity; spatial_dims == 3 uses 6-connectivity (a 3D mask
// with d == 1 is then all surface, as in scipy).
struct MaskGrid {
    std::int64_t d = 1, h = 1, w = 1;
    int spatial_dims = 3;

    std::int64_t voxels() const noexcept { return d * h * w; }
};

// Both masks cropped to the bounding box of their union: one byte per box
// voxel, bit 0 prediction, bit 1 target, C order over the box; an empty box
// (and no bytes) when both masks are empty. Where the voxel-mode passes (and
// the CUDA path) start. threads <= 0: all hardware threads.
struct CroppedMaskPair {
    GridBox box;
    std::vector<std::uint8_t> inside;
};
CroppedMaskPair crop_mask_pair(const std::uint8_t* pred, const std::uint8_t* target,
                               const std::array<std::int64_t, 3>& extent_dhw, int threads = 0);

// Throws Error(Usage) unless the extents are positive, spatial_dims is 2 or 3
// and a 2D grid has d == 1 (every entry point below checks this).
void check_mask_grid(const MaskGrid& grid);

// Masks are one byte per voxel, nonzero = inside (bool arrays qualify).
// Throws Error(Usage) for bad options or dimensions.
SurfaceDistances surface_distances(const std::uint8_t* pred, const std::uint8_t* target, const MaskGrid& grid,
                                   const SurfaceDistanceOptions& options);
inline SurfaceDistances surface_distances(const bool* pred, const bool* target, const MaskGrid& grid,
                                          const SurfaceDistanceOptions& options)
{
    return surface_distances(reinterpret_cast<const std::uint8_t*>(pred),
                             reinterpret_cast<const std::uint8_t*>(target), grid, options);
}

// Per-slice 2D values for a 3D mask pair: slice i along `axis` (D, H or W;
// Default means D) is treated as a 2D image with the in-plane spacing and
// 4-connectivity; all slices are solved in one batched pass. Returns one value
// per slice, equal to surface_distances() on that slice alone.
std::vector<SurfaceDistances> surface_distances_per_slice(const std::uint8_t* pred,
                                                          const std::uint8_t* target, const MaskGrid& grid,
                                                          SliceAxis axis,
                                                          const SurfaceDistanceOptions& options);

// A sample's value and its per-slice values along `axis` (Default: D)
// together, equal to surface_distances() and surface_distances_per_slice()
// but reading and cropping the masks once for both. A 2D grid's one slice is
// the sample itself (slices holds one value). Errors as theirs.
struct SampleSurfaceDistances {
    SurfaceDistances whole;
    std::vector<SurfaceDistances> slices;
};
SampleSurfaceDistances sample_surface_distances(const std::uint8_t* pred, const std::uint8_t* target,
                                                const MaskGrid& grid, SliceAxis axis,
                                                const SurfaceDistanceOptions& options);

// For colouring the prediction's surface (3D view): grid.voxels() values, the
// distance in mm from each voxel of S(P) to S(T) (+inf when the target is
// empty), NaN everywhere else. Swap the arguments for the target's surface.
std::vector<float> surface_distance_map(const std::uint8_t* pred, const std::uint8_t* target,
                                        const MaskGrid& grid, const SurfaceDistanceOptions& options);

// How a Volume's values become a mask.
struct MaskSelector {
    enum class Kind {
        Auto,      // integer/bool types: v != 0; floating types: v >= threshold (v > threshold if strict)
        Label,     // v == label (any type)
        Predicate, // predicate(v), v converted to double
    };
    Kind kind = Kind::Auto;
    double threshold = 0.5;
    bool strict = false;
    std::int64_t label = 1;
    std::function<bool(double)> predicate;
    std::int64_t channel = 0; // which channel of [N, C, ...] is read

    // The engine's hard-metric conventions: prediction p >= threshold, target t > 0.5.
    static MaskSelector prediction(double threshold = 0.5)
    {
        MaskSelector s;
        s.threshold = threshold;
        return s;
    }
    static MaskSelector target()
    {
        MaskSelector s;
        s.strict = true;
        return s;
    }
    static MaskSelector for_label(std::int64_t label, std::int64_t channel = 0)
    {
        MaskSelector s;
        s.kind = Kind::Label;
        s.label = label;
        s.channel = channel;
        return s;
    }
};

// One sample's mask (d * h * w bytes, 0/1) of one channel. Throws
// Error(Usage) naming the volume's source for an out-of-range sample/channel.
std::vector<std::uint8_t> extract_mask(const Volume& volume, std::int64_t sample,
                                       const MaskSelector& selector);

// The bounding box, over one sample's [D, H, W], of the voxels `selector`
// picks (an empty box when it picks none): one pass over the values, no
// full-size buffer. threads <= 0: all hardware threads. Errors as extract_mask.
GridBox mask_bounding_box(const Volume& volume, std::int64_t sample, const MaskSelector& selector,
                          int threads = 0);
// The mask inside `box` only: box.voxels() bytes, 0/1, C order over the box.
// Distances between masks cropped to a box holding both give the whole
// masks' values (outside the box is background either way). Errors as
// extract_mask, and Error(Usage) for a box outside the image.
std::vector<std::uint8_t> extract_mask(const Volume& volume, std::int64_t sample,
                                       const MaskSelector& selector, const GridBox& box, int threads = 0);

struct SurfaceDistanceReport {
    std::int64_t samples = 0;
    SliceAxis axis = SliceAxis::D;            // resolved slicing axis (D for 2D data)
    std::int64_t slices_per_sample = 0;       // 1 for 2D data; 0 when per-slice values were not asked for
    std::vector<SurfaceDistances> per_sample; // [sample]
    std::vector<SurfaceDistances> per_slice;  // [sample * slices_per_sample + slice]

    const SurfaceDistances& slice(std::int64_t sample, std::int64_t index) const
    {
        return per_slice[static_cast<std::size_t>(sample * slices_per_sample + index)];
    }
};

// Per-sample values (3D for 3D data, 2D for 2D data) and, when `per_slice`,
// per-slice values along `axis` (Default: D) for 3D data; for 2D data the one
// "slice" of a sample is the sample itself (as in the engine's JSON). Spacing
// comes from options.spacing_xyz (the caller passes the header's or --spacing).
// Prediction and target must agree in N and spatial extents (channels may
// differ); else Error(Input) naming the prediction.
SurfaceDistanceReport compute_surface_distances(const Volume& prediction, const MaskSelector& pred_selector,
                                                const Volume& target, const MaskSelector& target_selector,
                                                const SurfaceDistanceOptions& options, bool per_slice = false,
                                                SliceAxis axis = SliceAxis::Default);

// Summary of two sets of directed distances (mm), as defined above. Exposed
// for the GPU path and tests; the vectors are reordered.
SurfaceDistances summarize_surface_distances(std::vector<double>& pred_to_target,
                                             std::vector<double>& target_to_pred,
                                             const SurfaceDistanceOptions& options);

// Subvoxel summary of directed distances with their surfel areas (mm^2 or
// mm), as defined above; the vectors are reordered.
SurfaceDistances summarize_weighted_surface_distances(std::vector<std::pair<double, double>>& pred_to_target,
                                                      std::vector<std::pair<double, double>>& target_to_pred,
                                                      const SurfaceDistanceOptions& options);

// DeepMind's area-weighted percentile of (distance, area) pairs: sorted by
// (distance, area), the distance of the first pair whose cumulative area
// divided by the total area (numpy's pairwise sum) is >= p / 100, clamped to
// the last pair. NaN for an empty vector; the vector is sorted.
double percentile_weighted(std::vector<std::pair<double, double>>& values, double p);

// Marching-cubes surfel sizes per neighbourhood code for spacing in array-axis
// order: 3D, code bit 7 - (4 a + 2 b + c) set when voxel (i - 1 + a, j - 1 +
// b, k - 1 + c) is inside, 256 areas in mm^2; 2D, bit 3 - (2 a + b) for voxel
// (i - 1 + a, j - 1 + b), 16 contour lengths in mm.
std::array<double, 256> subvoxel_area_table_3d(const std::array<double, 3>& spacing_dhw);
std::array<double, 16> subvoxel_length_table_2d(const std::array<double, 2>& spacing_hw);

// numpy.percentile(values, p) with linear interpolation, by selection; the
// vector is reordered. NaN for an empty vector.
double percentile_linear(std::vector<double>& values, double p);

// Throws Error(Usage) unless percentile is in [0, 100], spacing positive and
// finite and the tolerance (when set) non-negative and finite.
void validate(const SurfaceDistanceOptions& options);

} // namespace masklens
