// The per-thread bodies of the connected-components kernels
// (component_kernels.cu), __host__ __device__ under nvcc and plain C++17
// elsewhere: each kernel keeps only its grid-stride loop and calls the body
// here for voxel i. union_find_parents_on_host (component_plan.cpp) runs the
// same bodies for every voxel, kernel after kernel, so the host tests
// exercise the device's index arithmetic, bounds and union rule.
//
// Where the device changes a parent atomically, the body takes an
// `atomic_min(std::uint32_t* at, std::uint32_t value) -> old value` callable:
// atomicMin in the kernel, a plain read-then-minimum on the host.
#pragma once

#include "masklens/gpu/component_plan.h"

#include <cstdint>

namespace masklens::gpu {

// The grid's extents, in voxels.
struct ComponentExtents {
    long long d, h, w;
};

// init_parents: a foreground voxel starts as its own root.
MASKLENS_CC_HD inline void init_parent_body(const std::uint8_t* mask, std::uint32_t* parents, long long i)
{
    parents[i] = mask[i] != 0 ? static_cast<std::uint32_t>(i) : kNoParent;
}

// The root of i; parents only ever decrease, so a stale read still leads to
// a root eventually (the loop ends at a self-parent).
MASKLENS_CC_HD inline std::uint32_t find_root(const std::uint32_t* parents, std::uint32_t i)
{
    std::uint32_t next = parents[i];
    while (next != i) {
        i = next;
        next = parents[i];
    }
    return i;
}

// Joins the sets of a and b: the larger root is hung under the smaller with
// atomic_min; when another thread changed it first, try again from there.
template <class AtomicMin>
MASKLENS_CC_HD void unite_body(std::uint32_t* parents, std::uint32_t a, std::uint32_t b,
                               const AtomicMin& atomic_min)
{
    while (true) {
        a = find_root(parents, a);
        b = find_root(parents, b);
        if (a == b) {
            return;
        }
        if (a > b) {
            const std::uint32_t t = a;
            a = b;
            b = t;
        }
        const std::uint32_t old = atomic_min(&parents[b], a);
        if (old == b) {
            return;
        }
        b = old; // b had been hung elsewhere meanwhile
    }
}

// merge_neighbours: a foreground voxel i joins each foreground neighbour
// among the n earlier ones in `offsets` (backward_neighbours) that lies in
// the grid. Earlier neighbours have dz <= 0, so only nz < 0 is out below.
template <class AtomicMin>
MASKLENS_CC_HD void merge_voxel_body(const std::uint8_t* mask, std::uint32_t* parents, ComponentExtents e,
                                     const int offsets[13][3], int n, long long i,
                                     const AtomicMin& atomic_min)
{
    if (mask[i] == 0) {
        return;
    }
    const long long x = i % e.w, y = (i / e.w) % e.h, z = i / (e.w * e.h);
    for (int k = 0; k < n; ++k) {
        const long long nz = z + offsets[k][0], ny = y + offsets[k][1], nx = x + offsets[k][2];
        if (nz < 0 || ny < 0 || ny >= e.h || nx < 0 || nx >= e.w) {
            continue;
        }
        const long long j = (nz * e.h + ny) * e.w + nx;
        if (mask[j] != 0) {
            unite_body(parents, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j), atomic_min);
        }
    }
}

// flatten: every foreground voxel points at its root.
MASKLENS_CC_HD inline void flatten_body(std::uint32_t* parents, long long i)
{
    if (parents[i] != kNoParent) {
        parents[i] = find_root(parents, static_cast<std::uint32_t>(i));
    }
}

} // namespace masklens::gpu
