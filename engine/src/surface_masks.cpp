// Hard masks for the surface distances: selected from a Volume's channel
// (extract_mask, mask_bounding_box), and a pair's union box and crop
// (union_box, crop_mask_pair).
#include "surface_masks.h"

#include "masklens/engine/error.h"
#include "masklens/engine/parallel.h"
#include "masklens/engine/surface_distance.h"
#include "value_loading.h"

#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace masklens {

namespace {

using Extent = std::array<std::int64_t, 3>;

} // namespace

namespace detail {

GridBox union_box(const std::uint8_t* pred, const std::uint8_t* target, const Extent& ext, int threads)
{
    const std::int64_t h_count = ext[1];
    const std::int64_t w_count = ext[2];
    const int workers = detail::worker_count(threads, ext[0], ext[0] * ext[1] * ext[2]);
    std::vector<GridBox> partial(static_cast<std::size_t>(workers));
    detail::parallel_for(ext[0], workers, [&](std::int64_t begin, std::int64_t end, int t) {
        GridBox box{{ext[0], ext[1], ext[2]}, {0, 0, 0}};
        for (std::int64_t d = begin; d < end; ++d) {
            for (std::int64_t h = 0; h < h_count; ++h) {
                const std::int64_t row = (d * h_count + h) * w_count;
                const std::uint8_t* p = pred + row;
                const std::uint8_t* q = target + row;
                std::uint8_t any = 0; // a vectorisable test first: most rows are empty
                for (std::int64_t w = 0; w < w_count; ++w) {
                    any = static_cast<std::uint8_t>(any | p[w] | q[w]);
                }
                if (any == 0) {
                    continue;
                }
                std::int64_t first = 0;
                while (first < w_count && p[first] == 0 && q[first] == 0) {
                    ++first;
                }
                if (first == w_count) {
                    continue;
                }
                std::int64_t last = w_count - 1;
                while (p[last] == 0 && q[last] == 0) {
                    --last;
                }
                box.lo[0] = std::min(box.lo[0], d);
                box.hi[0] = std::max(box.hi[0], d + 1);
                box.lo[1] = std::min(box.lo[1], h);
                box.hi[1] = std::max(box.hi[1], h + 1);
                box.lo[2] = std::min(box.lo[2], first);
                box.hi[2] = std::max(box.hi[2], last + 1);
            }
        }
        partial[static_cast<std::size_t>(t)] = box;
    });
    GridBox box{{ext[0], ext[1], ext[2]}, {0, 0, 0}};
    for (const auto& part : partial) {
        for (std::size_t a = 0; a < 3; ++a) {
            box.lo[a] = std::min(box.lo[a], part.lo[a]);
            box.hi[a] = std::max(box.hi[a], part.hi[a]);
        }
    }
    return box;
}

} // namespace detail

CroppedMaskPair crop_mask_pair(const std::uint8_t* pred, const std::uint8_t* target,
                               const std::array<std::int64_t, 3>& extent_dhw, int threads)
{
    const Extent& ext = extent_dhw;
    CroppedMaskPair crop;
    crop.box = detail::union_box(pred, target, ext, threads);
    if (crop.box.empty()) {
        return crop;
    }
    const GridBox& box = crop.box;
    const Extent e = box.extent();
    const std::int64_t plane = e[1] * e[2];
    const int workers = detail::worker_count(threads, e[0], box.voxels());
    crop.inside.resize(static_cast<std::size_t>(box.voxels()));
    detail::parallel_for(e[0], workers, [&](std::int64_t begin, std::int64_t end, int) {
        for (std::int64_t d = begin; d < end; ++d) {
            for (std::int64_t h = 0; h < e[1]; ++h) {
                const std::int64_t src = ((box.lo[0] + d) * ext[1] + box.lo[1] + h) * ext[2] + box.lo[2];
                std::uint8_t* dst = crop.inside.data() + d * plane + h * e[2];
                for (std::int64_t w = 0; w < e[2]; ++w) {
                    dst[w] = static_cast<std::uint8_t>((pred[src + w] != 0 ? 1 : 0) |
                                                       (target[src + w] != 0 ? 2 : 0));
                }
            }
        }
    });
    return crop;
}

namespace {

// dst[i] = 1 where `sel` selects src[i], else 0. float16 elements come as
// their bits (detail::Half) and are decoded by half_to_float (volume.h), the
// engine's one float16 decoder (exact, so the double holds the same value).
template <class T>
void select_values(const T* src, std::int64_t count, const MaskSelector& sel, std::uint8_t* dst)
{
    using Kind = MaskSelector::Kind;
    if constexpr (std::is_integral_v<T>) {
        if (sel.kind == Kind::Auto) {
            for (std::int64_t i = 0; i < count; ++i) {
                dst[i] = src[i] != 0 ? 1 : 0;
            }
            return;
        }
        if (sel.kind == Kind::Label) {
            if (!std::in_range<T>(sel.label)) {
                std::fill_n(dst, count, std::uint8_t{0});
                return;
            }
            const auto label = static_cast<T>(sel.label);
            for (std::int64_t i = 0; i < count; ++i) {
                dst[i] = src[i] == label ? 1 : 0;
            }
            return;
        }
        for (std::int64_t i = 0; i < count; ++i) {
            dst[i] = sel.predicate(static_cast<double>(src[i])) ? 1 : 0;
        }
    } else {
        const auto value = [&](std::int64_t i) -> double {
            if constexpr (std::is_same_v<T, detail::Half>) {
                return static_cast<double>(half_to_float(src[i].bits));
            } else {
                return static_cast<double>(src[i]);
            }
        };
        if (sel.kind == Kind::Auto) {
            for (std::int64_t i = 0; i < count; ++i) {
                const double v = value(i);
                dst[i] = (sel.strict ? v > sel.threshold : v >= sel.threshold) ? 1 : 0;
            }
            return;
        }
        if (sel.kind == Kind::Label) {
            const auto label = static_cast<double>(sel.label);
            for (std::int64_t i = 0; i < count; ++i) {
                dst[i] = value(i) == label ? 1 : 0;
            }
            return;
        }
        for (std::int64_t i = 0; i < count; ++i) {
            dst[i] = sel.predicate(value(i)) ? 1 : 0;
        }
    }
}

// Checks the sample, channel and selector, then calls body(values) with the
// channel's values typed (const T*, [D, H, W] C order).
template <class Body>
void with_channel(const Volume& volume, std::int64_t sample, const MaskSelector& selector, Body&& body)
{
    const Shape& shape = volume.shape();
    if (sample < 0 || sample >= shape.n) {
        throw_usage_error(volume.source() + ": sample " + std::to_string(sample) +
                          " is out of range (N = " + std::to_string(shape.n) + ")");
    }
    if (selector.channel < 0 || selector.channel >= shape.c) {
        throw_usage_error(volume.source() + ": channel " + std::to_string(selector.channel) +
                          " is out of range (C = " + std::to_string(shape.c) + ")");
    }
    if (selector.kind == MaskSelector::Kind::Predicate && !selector.predicate) {
        throw_usage_error("surface distance: a predicate mask selector needs a predicate");
    }
    const std::int64_t count = shape.voxels_per_channel();
    detail::visit_elements(volume, (sample * shape.c + selector.channel) * count, body);
}

// Worker threads for a pass over `planes` planes of `voxels` voxels in all; a
// user predicate may not be thread-safe and runs on the caller's thread only.
int selection_workers(const MaskSelector& selector, int threads, std::int64_t planes, std::int64_t voxels)
{
    return selector.kind == MaskSelector::Kind::Predicate ? 1 : detail::worker_count(threads, planes, voxels);
}

} // namespace

std::vector<std::uint8_t> extract_mask(const Volume& volume, std::int64_t sample,
                                       const MaskSelector& selector)
{
    const std::int64_t count = volume.shape().voxels_per_channel();
    std::vector<std::uint8_t> mask(static_cast<std::size_t>(count));
    with_channel(volume, sample, selector,
                 [&](const auto* values) { select_values(values, count, selector, mask.data()); });
    return mask;
}

GridBox mask_bounding_box(const Volume& volume, std::int64_t sample, const MaskSelector& selector,
                          int threads)
{
    const Shape& shape = volume.shape();
    const Extent ext{shape.d, shape.h, shape.w};
    GridBox box{{ext[0], ext[1], ext[2]}, {0, 0, 0}};
    with_channel(volume, sample, selector, [&](const auto* values) {
        const int workers = selection_workers(selector, threads, ext[0], ext[0] * ext[1] * ext[2]);
        std::vector<GridBox> partial(static_cast<std::size_t>(workers), box);
        detail::parallel_for(ext[0], workers, [&](std::int64_t begin, std::int64_t end, int t) {
            std::vector<std::uint8_t> row(static_cast<std::size_t>(ext[2]));
            GridBox& local = partial[static_cast<std::size_t>(t)];
            for (std::int64_t d = begin; d < end; ++d) {
                for (std::int64_t h = 0; h < ext[1]; ++h) {
                    select_values(values + (d * ext[1] + h) * ext[2], ext[2], selector, row.data());
                    std::uint8_t any = 0; // vectorisable: most rows are empty
                    for (const std::uint8_t v : row) {
                        any = static_cast<std::uint8_t>(any | v);
                    }
                    if (any == 0) {
                        continue;
                    }
                    std::int64_t first = 0;
                    while (row[static_cast<std::size_t>(first)] == 0) {
                        ++first;
                    }
                    std::int64_t last = ext[2] - 1;
                    while (row[static_cast<std::size_t>(last)] == 0) {
                        --last;
                    }
                    local.lo = {std::min(local.lo[0], d), std::min(local.lo[1], h),
                                std::min(local.lo[2], first)};
                    local.hi = {std::max(local.hi[0], d + 1), std::max(local.hi[1], h + 1),
                                std::max(local.hi[2], last + 1)};
                }
            }
        });
        for (const GridBox& part : partial) {
            for (std::size_t a = 0; a < 3; ++a) {
                box.lo[a] = std::min(box.lo[a], part.lo[a]);
                box.hi[a] = std::max(box.hi[a], part.hi[a]);
            }
        }
    });
    return box;
}

std::vector<std::uint8_t> extract_mask(const Volume& volume, std::int64_t sample,
                                       const MaskSelector& selector, const GridBox& box, int threads)
{
    const Shape& shape = volume.shape();
    const Extent ext{shape.d, shape.h, shape.w};
    for (std::size_t a = 0; a < 3; ++a) {
        if (box.lo[a] < 0 || box.hi[a] > ext[a] || box.lo[a] > box.hi[a]) {
            throw_usage_error(volume.source() + ": mask box outside the image");
        }
    }
    std::vector<std::uint8_t> mask(static_cast<std::size_t>(box.empty() ? 0 : box.voxels()));
    if (box.empty()) {
        return mask;
    }
    const Extent e = box.extent();
    with_channel(volume, sample, selector, [&](const auto* values) {
        const int workers = selection_workers(selector, threads, e[0], box.voxels());
        detail::parallel_for(e[0], workers, [&](std::int64_t begin, std::int64_t end, int) {
            for (std::int64_t d = begin; d < end; ++d) {
                for (std::int64_t h = 0; h < e[1]; ++h) {
                    select_values(values + ((box.lo[0] + d) * ext[1] + box.lo[1] + h) * ext[2] + box.lo[2],
                                  e[2], selector, mask.data() + (d * e[1] + h) * e[2]);
                }
            }
        });
    });
    return mask;
}

} // namespace masklens
