// The CUDA labelling's host pieces (component_plan.h): built in every
// configuration, so the renumbering and an emulation of the kernels (their
// own bodies, component_kernel_bodies.h) are tested without a device.
#include "masklens/gpu/component_plan.h"

#include "masklens/engine/error.h"
#include "masklens/gpu/component_kernel_bodies.h"

#include <string>

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

void union_find_parents_on_host(const std::uint8_t* mask, const ComponentGrid& grid, int connectivity,
                                std::uint32_t* parents)
{
    // label_parents' three kernels, each body run for every voxel in turn
    // (one thread at a time, so atomicMin is a plain read and minimum).
    const auto atomic_min = [](std::uint32_t* at, std::uint32_t value) {
        const std::uint32_t old = *at;
        *at = value < old ? value : old;
        return old;
    };
    const int conn = resolve_connectivity(connectivity, grid.spatial_dims);
    int offsets[13][3];
    const int n = backward_neighbours(conn, offsets);
    const long long voxels = grid.voxels();
    for (long long i = 0; i < voxels; ++i) {
        init_parent_body(mask, parents, i);
    }
    const ComponentExtents extents{grid.d, grid.h, grid.w};
    for (long long i = 0; i < voxels; ++i) {
        merge_voxel_body(mask, parents, extents, offsets, n, i, atomic_min);
    }
    // The device's threads flatten in any order; last voxel first is the
    // order in which a flatten that follows one parent step (not the whole
    // chain) leaves chains behind, as a parallel run can.
    for (long long i = voxels - 1; i >= 0; --i) {
        flatten_body(parents, i);
    }
}

} // namespace masklens::gpu
