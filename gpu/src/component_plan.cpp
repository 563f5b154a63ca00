// The CUDA labelling's host pieces (component_plan.h): built in every
// configuration, so the renumbering and an emulation of the kernels are
// tested without a device.
#include "masklens/gpu/component_plan.h"

#include "masklens/engine/error.h"

#include <string>
#include <utility>

namespace masklens::gpu {

std::int64_t renumber_roots(std::uint32_t* parents, std::int64_t voxels, const std::string& what)
{
    // A root precedes its component's voxels, so its label is known when
    // they are reached: labels[i] = labels[root].
    std::int64_t count = 0;
    for (std::int64_t i = 0; i < voxels; ++i) {
        const std::uint32_t parent = parents[i];
        if (parent == kNoParent) {
            parents[i] = 0;
        } else if (parent == static_cast<std::uint32_t>(i)) {
            if (count >= kMaxComponents) {
                throw_input_error(what, "more than " + std::to_string(kMaxComponents) + " components");
            }
            parents[i] = static_cast<std::uint32_t>(++count);
        } else if (static_cast<std::int64_t>(parent) < i && parents[parent] != 0) {
            parents[i] = parents[parent];
        } else {
            throw Error(Error::Kind::Device, {},
                        "CUDA labelling of " + what + " returned a parent that is not a root before voxel " +
                            std::to_string(i));
        }
    }
    return count;
}

namespace {

std::uint32_t find(const std::uint32_t* parents, std::uint32_t i)
{
    while (parents[i] != i) {
        i = parents[i];
    }
    return i;
}

} // namespace

void union_find_parents_on_host(const std::uint8_t* mask, const ComponentGrid& grid, int connectivity,
                                std::uint32_t* parents)
{
    const int conn = resolve_connectivity(connectivity, grid.spatial_dims);
    int offsets[13][3];
    const int n = backward_neighbours(conn, offsets);
    const std::int64_t voxels = grid.voxels();
    for (std::int64_t i = 0; i < voxels; ++i) {
        parents[i] = mask[i] != 0 ? static_cast<std::uint32_t>(i) : kNoParent;
    }
    for (std::int64_t z = 0; z < grid.d; ++z) {
        for (std::int64_t y = 0; y < grid.h; ++y) {
            for (std::int64_t x = 0; x < grid.w; ++x) {
                const std::int64_t i = (z * grid.h + y) * grid.w + x;
                if (mask[i] == 0) {
                    continue;
                }
                for (int k = 0; k < n; ++k) {
                    const std::int64_t nz = z + offsets[k][0], ny = y + offsets[k][1], nx = x + offsets[k][2];
                    if (nz < 0 || ny < 0 || ny >= grid.h || nx < 0 || nx >= grid.w) {
                        continue;
                    }
                    const std::int64_t j = (nz * grid.h + ny) * grid.w + nx;
                    if (mask[j] == 0) {
                        continue;
                    }
                    // The kernel's unite: the larger root goes under the smaller.
                    std::uint32_t a = find(parents, static_cast<std::uint32_t>(i));
                    std::uint32_t b = find(parents, static_cast<std::uint32_t>(j));
                    if (a > b) {
                        std::swap(a, b);
                    }
                    parents[b] = a;
                }
            }
        }
    }
    for (std::int64_t i = 0; i < voxels; ++i) { // the kernel's flatten
        if (parents[i] != kNoParent) {
            parents[i] = find(parents, static_cast<std::uint32_t>(i));
        }
    }
}

} // namespace masklens::gpu
