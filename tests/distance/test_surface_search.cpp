// Voxel-mode surface distances by the two exact methods (SurfaceSearch): the
// search at surface voxels (rows of packed bits, with the k-d tree for far
// answers) and the two EDTs over the bounding box must
// agree with each other and with a brute-force O(n * m) reference, on random
// masks of awkward sizes (2D and 3D, anisotropic spacing), empty and
// single-voxel masks, far-apart masks and masks touching the image border, per
// sample, per slice (every axis) and in the distance map. The brute force
// summarises its distances with this file's own numpy-style code (sorted
// percentiles, long double means), not the engine's summarize_surface_distances.
//
// Tolerances: both methods form squared distances in the same arithmetic, so
// they agree to the last bit except where two candidates at the same true
// distance round differently (e.g. 0.8^2 * 5^2 against (0.8^2 * 3^2 +
// 0.8^2 * 4^2)): the search keeps the smaller, the EDT's lower envelope may keep
// either. Such a difference is an ulp or two of one distance; values are
// compared to 1e-13 relative (the brute force, computed in long double, to
// 1e-12 like the EDT's own tests), counts and infinities exactly. NSD
// tolerances are chosen away from the grid's exact distances.
#include "masklens/engine/surface_distance.h"

#include <QtTest>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

using namespace masklens;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Case {
    MaskGrid grid;
    std::array<double, 3> spacing_xyz{1.0, 1.0, 1.0};
    std::vector<std::uint8_t> pred, target;
};

bool same(double got, double want, double relative)
{
    if (std::isnan(want)) {
        return std::isnan(got);
    }
    if (std::isinf(want)) {
        return got == want;
    }
    return std::abs(got - want) <= relative * std::max(1.0, std::abs(want));
}

#define CHECK_CLOSE(got, want, tol)                                                                          \
    QVERIFY2(                                                                                                \
        same((got), (want), (tol)),                                                                          \
        qPrintable(QString("%1 = %2, expected %3").arg(#got).arg(got, 0, 'g', 17).arg(want, 0, 'g', 17)))

void compare(const SurfaceDistances& got, const SurfaceDistances& want, double tol)
{
    QCOMPARE(got.pred_surface_voxels, want.pred_surface_voxels);
    QCOMPARE(got.target_surface_voxels, want.target_surface_voxels);
    CHECK_CLOSE(got.hd, want.hd, tol);
    CHECK_CLOSE(got.hd_percentile, want.hd_percentile, tol);
    CHECK_CLOSE(got.assd, want.assd, tol);
    CHECK_CLOSE(got.nsd, want.nsd, tol);
    CHECK_CLOSE(got.percentile_pred_to_target, want.percentile_pred_to_target, tol);
    CHECK_CLOSE(got.percentile_target_to_pred, want.percentile_target_to_pred, tol);
    CHECK_CLOSE(got.mean_pred_to_target, want.mean_pred_to_target, tol);
    CHECK_CLOSE(got.mean_target_to_pred, want.mean_target_to_pred, tol);
}

// Surface voxels (d, h, w) of a mask: a face neighbour along a measured axis
// that is background or outside the image.
std::vector<std::array<std::int64_t, 3>> surface_of(const std::vector<std::uint8_t>& m,
                                                    const std::array<std::int64_t, 3>& e,
                                                    const std::array<bool, 3>& axes)
{
    std::vector<std::array<std::int64_t, 3>> out;
    for (std::int64_t d = 0; d < e[0]; ++d) {
        for (std::int64_t h = 0; h < e[1]; ++h) {
            for (std::int64_t w = 0; w < e[2]; ++w) {
                const std::array<std::int64_t, 3> c{d, h, w};
                if (m[static_cast<std::size_t>((d * e[1] + h) * e[2] + w)] == 0) {
                    continue;
                }
                bool surface = false;
                for (std::size_t a = 0; a < 3 && !surface; ++a) {
                    if (!axes[a]) {
                        continue;
                    }
                    for (const std::int64_t step : {-1, 1}) {
                        auto n = c;
                        n[a] += step;
                        if (n[a] < 0 || n[a] >= e[a] ||
                            m[static_cast<std::size_t>((n[0] * e[1] + n[1]) * e[2] + n[2])] == 0) {
                            surface = true;
                        }
                    }
                }
                if (surface) {
                    out.push_back(c);
                }
            }
        }
    }
    return out;
}

std::vector<double> directed(const std::vector<std::array<std::int64_t, 3>>& from,
                             const std::vector<std::array<std::int64_t, 3>>& to,
                             const std::array<double, 3>& spacing_dhw)
{
    std::vector<double> out;
    for (const auto& p : from) {
        long double best = std::numeric_limits<long double>::infinity();
        for (const auto& q : to) {
            long double sum = 0;
            for (std::size_t a = 0; a < 3; ++a) {
                const long double t = static_cast<long double>(p[a] - q[a]) * spacing_dhw[a];
                sum += t * t;
            }
            best = std::min(best, sum);
        }
        out.push_back(static_cast<double>(std::sqrt(best)));
    }
    return out;
}

// Brute-force directed distances of a whole image (3D or 2D).
std::pair<std::vector<double>, std::vector<double>> brute_distances(const Case& c)
{
    const std::array<std::int64_t, 3> e{c.grid.d, c.grid.h, c.grid.w};
    const std::array<bool, 3> axes{c.grid.spatial_dims == 3, true, true};
    const auto sp = surface_of(c.pred, e, axes);
    const auto st = surface_of(c.target, e, axes);
    const std::array<double, 3> dhw{c.spacing_xyz[2], c.spacing_xyz[1], c.spacing_xyz[0]};
    return {directed(sp, st, dhw), directed(st, sp, dhw)};
}

// numpy.percentile(values, p) with method="linear", written out: sort, then
// interpolate between the elements at floor and ceil of (n - 1) * p / 100.
double numpy_percentile(std::vector<double> values, double p)
{
    std::sort(values.begin(), values.end());
    const double position = static_cast<double>(values.size() - 1) * p / 100.0;
    const auto below = static_cast<std::size_t>(std::floor(position));
    const std::size_t above = std::min(below + 1, values.size() - 1);
    const double fraction = position - static_cast<double>(below);
    return values[below] + (values[above] - values[below]) * fraction;
}

double mean_of(const std::vector<double>& values)
{
    long double sum = 0;
    for (const double v : values) {
        sum += v;
    }
    return static_cast<double>(sum / static_cast<long double>(values.size()));
}

// The brute force's summary, written here rather than taken from the engine's
// summarize_surface_distances (README's definitions, MONAI's rules for empty
// surfaces): hd = max over both directions; percentile per direction, combined
// by the rule (max, pooled over both directions, or the mean of the two);
// assd = mean of both directions pooled; nsd = share of both directions within
// the tolerance. Both surfaces empty: NaN; one empty: +inf, nsd 0.
SurfaceDistances summarize(const std::pair<std::vector<double>, std::vector<double>>& d,
                           const SurfaceDistanceOptions& o)
{
    const auto& [pt, tp] = d;
    SurfaceDistances r;
    r.pred_surface_voxels = static_cast<std::int64_t>(pt.size());
    r.target_surface_voxels = static_cast<std::int64_t>(tp.size());
    if (pt.empty() || tp.empty()) {
        const double v = pt.empty() && tp.empty() ? std::nan("") : kInf;
        r.hd = r.hd_percentile = r.assd = v;
        r.percentile_pred_to_target = r.percentile_target_to_pred = v;
        r.mean_pred_to_target = r.mean_target_to_pred = v;
        r.max_pred_to_target = r.max_target_to_pred = v;
        r.nsd = std::isnan(v) || !o.nsd_tolerance_mm ? std::nan("") : 0.0;
        return r;
    }
    std::vector<double> both = pt;
    both.insert(both.end(), tp.begin(), tp.end());
    r.max_pred_to_target = *std::max_element(pt.begin(), pt.end());
    r.max_target_to_pred = *std::max_element(tp.begin(), tp.end());
    r.hd = std::max(r.max_pred_to_target, r.max_target_to_pred);
    r.percentile_pred_to_target = numpy_percentile(pt, o.percentile);
    r.percentile_target_to_pred = numpy_percentile(tp, o.percentile);
    switch (o.rule) {
    case HausdorffRule::Max:
        r.hd_percentile = std::max(r.percentile_pred_to_target, r.percentile_target_to_pred);
        break;
    case HausdorffRule::Pooled: r.hd_percentile = numpy_percentile(both, o.percentile); break;
    case HausdorffRule::Mean:
        r.hd_percentile = (r.percentile_pred_to_target + r.percentile_target_to_pred) / 2;
        break;
    }
    r.mean_pred_to_target = mean_of(pt);
    r.mean_target_to_pred = mean_of(tp);
    r.assd = mean_of(both);
    if (o.nsd_tolerance_mm) {
        const double tau = *o.nsd_tolerance_mm;
        r.nsd = static_cast<double>(
                    std::count_if(both.begin(), both.end(), [tau](double x) { return x <= tau; })) /
                static_cast<double>(both.size());
    } else {
        r.nsd = std::nan("");
    }
    return r;
}

SurfaceDistances brute_force(const Case& c, const SurfaceDistanceOptions& o)
{
    return summarize(brute_distances(c), o);
}

SurfaceDistanceOptions options_for(const Case& c, SurfaceSearch search,
                                   HausdorffRule rule = HausdorffRule::Max)
{
    SurfaceDistanceOptions o;
    o.spacing_xyz = c.spacing_xyz;
    o.search = search;
    o.rule = rule;
    o.percentile = 95;
    o.nsd_tolerance_mm = 1.37;
    return o;
}

// Random blobs: a few random boxes and balls plus salt noise, in one mask.
std::vector<std::uint8_t> random_mask(const MaskGrid& g, std::mt19937& rng, double noise, int shapes)
{
    std::vector<std::uint8_t> m(static_cast<std::size_t>(g.voxels()), 0);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (int s = 0; s < shapes; ++s) {
        const double cd = u(rng) * static_cast<double>(g.d);
        const double ch = u(rng) * static_cast<double>(g.h);
        const double cw = u(rng) * static_cast<double>(g.w);
        const double r = 1.0 + u(rng) * 0.4 * static_cast<double>(std::max({g.d, g.h, g.w}));
        const bool ball = u(rng) < 0.6;
        for (std::int64_t d = 0; d < g.d; ++d) {
            for (std::int64_t h = 0; h < g.h; ++h) {
                for (std::int64_t w = 0; w < g.w; ++w) {
                    const double x = static_cast<double>(w) - cw;
                    const double y = static_cast<double>(h) - ch;
                    const double z = g.spatial_dims == 3 ? static_cast<double>(d) - cd : 0.0;
                    const bool in =
                        ball ? x * x + y * y + z * z <= r * r
                             : std::abs(x) <= r && std::abs(y) <= 0.7 * r && std::abs(z) <= 0.5 * r;
                    if (in) {
                        m[static_cast<std::size_t>((d * g.h + h) * g.w + w)] = 1;
                    }
                }
            }
        }
    }
    for (auto& v : m) {
        if (u(rng) < noise) {
            v = static_cast<std::uint8_t>(1 - v);
        }
    }
    return m;
}

std::vector<Case> random_cases()
{
    std::vector<Case> cases;
    std::mt19937 rng(20261129);
    const std::vector<MaskGrid> grids{
        {1, 17, 23, 2}, {1, 1, 31, 2},  {1, 29, 1, 2},  {13, 11, 7, 3}, {5, 19, 3, 3},
        {1, 9, 14, 3},  {21, 2, 17, 3}, {9, 16, 25, 3}, {1, 64, 37, 2}, {13, 21, 23, 3},
    };
    const std::vector<std::array<double, 3>> spacings{
        {1.0, 1.0, 1.0}, {0.8, 0.8, 1.5}, {0.37, 1.9, 2.3}, {2.5, 0.5, 0.7}};
    int k = 0;
    for (const auto& g : grids) {
        for (const double noise : {0.0, 0.05, 0.5}) {
            Case c;
            c.grid = g;
            c.spacing_xyz = spacings[static_cast<std::size_t>(k++ % 4)];
            c.pred = random_mask(g, rng, noise, 2);
            c.target = random_mask(g, rng, noise, 3);
            cases.push_back(std::move(c));
        }
    }
    return cases;
}

// Special cases: empty, single voxels, far apart, touching the border.
std::vector<Case> special_cases()
{
    std::vector<Case> cases;
    const auto make = [](MaskGrid g, std::array<double, 3> s) {
        Case c;
        c.grid = g;
        c.spacing_xyz = s;
        c.pred.assign(static_cast<std::size_t>(g.voxels()), 0);
        c.target.assign(static_cast<std::size_t>(g.voxels()), 0);
        return c;
    };
    const auto at = [](const Case& c, std::int64_t d, std::int64_t h, std::int64_t w) {
        return static_cast<std::size_t>((d * c.grid.h + h) * c.grid.w + w);
    };
    {
        Case c = make({6, 7, 8, 3}, {0.8, 0.9, 1.7}); // both empty
        cases.push_back(c);
        c.pred[at(c, 2, 3, 4)] = 1; // one empty
        cases.push_back(c);
        c.target[at(c, 5, 0, 7)] = 1; // single voxels, the target in a corner
        cases.push_back(c);
        c.target[at(c, 2, 3, 4)] = 1; // coinciding voxel as well
        cases.push_back(c);
    }
    {
        Case c = make({1, 1, 1, 3}, {1.0, 2.0, 3.0}); // a single-voxel image
        c.pred[0] = 1;
        c.target[0] = 1;
        cases.push_back(c);
    }
    {
        // Far apart: two small blocks in opposite corners of a long image.
        Case c = make({40, 6, 90, 3}, {0.5, 1.25, 2.0});
        for (std::int64_t d = 0; d < 3; ++d) {
            for (std::int64_t h = 0; h < 3; ++h) {
                for (std::int64_t w = 0; w < 4; ++w) {
                    c.pred[at(c, d, h, w)] = 1;
                    c.target[at(c, 39 - d, 5 - h, 89 - w)] = 1;
                }
            }
        }
        cases.push_back(c);
    }
    {
        // Wide, sparse rows: the nearest voxel along W lies 63, 64, 65 or many
        // more steps away (the row search reads 64 positions each way in one
        // go and scans on beyond them), on either side.
        std::mt19937 rng(11);
        std::bernoulli_distribution sparse(0.006);
        for (const MaskGrid& g : {MaskGrid{1, 3, 300, 2}, MaskGrid{4, 3, 260, 3}, MaskGrid{2, 2, 700, 3}}) {
            Case c = make(g, {0.6, 1.3, 0.9});
            for (std::size_t i = 0; i < c.pred.size(); ++i) {
                c.pred[i] = sparse(rng) ? 1 : 0;
                c.target[i] = sparse(rng) ? 1 : 0;
            }
            c.pred[at(c, 0, 0, 100)] = 1;
            c.target[at(c, 0, 0, 163)] = 1; // 63 steps right
            c.pred[at(c, 0, 1, 140)] = 1;
            c.target[at(c, 0, 1, 76)] = 1; // 64 steps left
            c.pred[at(c, 0, 2, 5)] = 1;
            c.target[at(c, 0, 2, 70)] = 1; // 65 steps right
            cases.push_back(c);
        }
    }
    {
        // Far apart across many rows (more than the row search's budget):
        // the tree answers, bounded by what the rows found first.
        Case c = make({60, 40, 5, 3}, {0.9, 0.6, 1.4});
        for (std::int64_t d = 0; d < 2; ++d) {
            for (std::int64_t h = 0; h < 3; ++h) {
                c.pred[at(c, d, h, 0)] = 1;
                c.target[at(c, 59 - d, 39 - h, 4)] = 1;
            }
        }
        c.target[at(c, 30, 20, 2)] = 1; // a nearer target voxel mid-way
        cases.push_back(c);
    }
    {
        // Full masks touching every border, one with a hole.
        Case c = make({7, 9, 11, 3}, {0.7, 0.7, 3.0});
        c.pred.assign(c.pred.size(), 1);
        c.target.assign(c.target.size(), 1);
        c.target[at(c, 3, 4, 5)] = 0;
        cases.push_back(c);
    }
    {
        // 2D: far apart single pixels, and a full image against a line.
        Case c = make({1, 50, 3, 2}, {0.3, 4.0, 1.0});
        c.pred[at(c, 0, 0, 0)] = 1;
        c.target[at(c, 0, 49, 2)] = 1;
        cases.push_back(c);
        Case f = make({1, 12, 13, 2}, {1.1, 0.6, 1.0});
        f.pred.assign(f.pred.size(), 1);
        for (std::int64_t h = 0; h < 12; ++h) {
            f.target[at(f, 0, h, 12)] = 1;
        }
        cases.push_back(f);
    }
    return cases;
}

QString describe(const Case& c)
{
    return QString("[%1, %2, %3] %4D spacing (%5, %6, %7)")
        .arg(c.grid.d)
        .arg(c.grid.h)
        .arg(c.grid.w)
        .arg(c.grid.spatial_dims)
        .arg(c.spacing_xyz[0])
        .arg(c.spacing_xyz[1])
        .arg(c.spacing_xyz[2]);
}

void add_rows()
{
    QTest::addColumn<int>("index");
    const auto random = random_cases();
    const auto special = special_cases();
    for (std::size_t i = 0; i < random.size() + special.size(); ++i) {
        const Case& c = i < random.size() ? random[i] : special[i - random.size()];
        QTest::newRow(qPrintable(QString("%1 %2").arg(i).arg(describe(c)))) << static_cast<int>(i);
    }
}

Case case_at(int index)
{
    auto cases = random_cases();
    const auto special = special_cases();
    cases.insert(cases.end(), special.begin(), special.end());
    return cases[static_cast<std::size_t>(index)];
}

} // namespace

class TestSurfaceSearch : public QObject {
    Q_OBJECT

private slots:
    void whole_image_data() { add_rows(); }
    void whole_image();
    void per_slice_data() { add_rows(); }
    void per_slice();
    void distance_map_data() { add_rows(); }
    void distance_map();
    void threads_and_auto();
    void random_shapes_against_the_transform();
};

void TestSurfaceSearch::whole_image()
{
    QFETCH(int, index);
    const Case c = case_at(index);
    const auto reference = brute_distances(c);
    for (const auto rule : {HausdorffRule::Max, HausdorffRule::Pooled, HausdorffRule::Mean}) {
        const auto tree = surface_distances(c.pred.data(), c.target.data(), c.grid,
                                            options_for(c, SurfaceSearch::NearestNeighbour, rule));
        const auto edt = surface_distances(c.pred.data(), c.target.data(), c.grid,
                                           options_for(c, SurfaceSearch::DistanceTransform, rule));
        const auto automatic = surface_distances(c.pred.data(), c.target.data(), c.grid,
                                                 options_for(c, SurfaceSearch::Auto, rule));
        compare(tree, edt, 1e-13);
        compare(automatic, edt, 1e-13);
        compare(tree, summarize(reference, options_for(c, SurfaceSearch::Auto, rule)), 1e-12);
    }
}

void TestSurfaceSearch::per_slice()
{
    QFETCH(int, index);
    const Case c = case_at(index);
    if (c.grid.spatial_dims != 3) {
        // A 2D image is its own one slice.
        const auto tree = surface_distances_per_slice(c.pred.data(), c.target.data(), c.grid, SliceAxis::D,
                                                      options_for(c, SurfaceSearch::NearestNeighbour));
        QCOMPARE(tree.size(), std::size_t{1});
        compare(tree.front(), brute_force(c, options_for(c, SurfaceSearch::Auto)), 1e-12);
        return;
    }
    for (const auto axis : {SliceAxis::D, SliceAxis::H, SliceAxis::W}) {
        const auto tree = surface_distances_per_slice(c.pred.data(), c.target.data(), c.grid, axis,
                                                      options_for(c, SurfaceSearch::NearestNeighbour));
        const auto edt = surface_distances_per_slice(c.pred.data(), c.target.data(), c.grid, axis,
                                                     options_for(c, SurfaceSearch::DistanceTransform));
        QCOMPARE(tree.size(), edt.size());
        for (std::size_t i = 0; i < tree.size(); ++i) {
            compare(tree[i], edt[i], 1e-13);
        }
        // Brute force on a few slices, taken out as 2D images.
        const std::array<std::int64_t, 3> e{c.grid.d, c.grid.h, c.grid.w};
        const int a = axis == SliceAxis::D ? 0 : axis == SliceAxis::H ? 1 : 2;
        const std::int64_t count = e[static_cast<std::size_t>(a)];
        for (const std::int64_t i : {std::int64_t{0}, count / 2, count - 1}) {
            const int r = a == 0 ? 1 : 0;
            const int col = a == 2 ? 1 : 2;
            Case s;
            s.grid = MaskGrid{1, e[static_cast<std::size_t>(r)], e[static_cast<std::size_t>(col)], 2};
            const std::array<double, 3> dhw{c.spacing_xyz[2], c.spacing_xyz[1], c.spacing_xyz[0]};
            s.spacing_xyz = {dhw[static_cast<std::size_t>(col)], dhw[static_cast<std::size_t>(r)], 1.0};
            s.pred.resize(static_cast<std::size_t>(s.grid.voxels()));
            s.target.resize(s.pred.size());
            for (std::int64_t y = 0; y < s.grid.h; ++y) {
                for (std::int64_t x = 0; x < s.grid.w; ++x) {
                    std::array<std::int64_t, 3> p{};
                    p[static_cast<std::size_t>(a)] = i;
                    p[static_cast<std::size_t>(r)] = y;
                    p[static_cast<std::size_t>(col)] = x;
                    const auto src = static_cast<std::size_t>((p[0] * e[1] + p[1]) * e[2] + p[2]);
                    s.pred[static_cast<std::size_t>(y * s.grid.w + x)] = c.pred[src];
                    s.target[static_cast<std::size_t>(y * s.grid.w + x)] = c.target[src];
                }
            }
            SurfaceDistanceOptions o = options_for(s, SurfaceSearch::Auto);
            compare(tree[static_cast<std::size_t>(i)], brute_force(s, o), 1e-12);
        }
    }
}

void TestSurfaceSearch::distance_map()
{
    QFETCH(int, index);
    const Case c = case_at(index);
    for (const bool swap : {false, true}) {
        const auto* a = swap ? c.target.data() : c.pred.data();
        const auto* b = swap ? c.pred.data() : c.target.data();
        const auto tree = surface_distance_map(a, b, c.grid, options_for(c, SurfaceSearch::NearestNeighbour));
        const auto edt = surface_distance_map(a, b, c.grid, options_for(c, SurfaceSearch::DistanceTransform));
        QCOMPARE(tree.size(), edt.size());
        for (std::size_t i = 0; i < tree.size(); ++i) {
            if (std::isnan(edt[i])) {
                QVERIFY(std::isnan(tree[i]));
            } else if (std::isinf(edt[i])) {
                QCOMPARE(tree[i], edt[i]);
            } else {
                QVERIFY2(std::abs(tree[i] - edt[i]) <= 1e-6f * std::max(1.0f, edt[i]),
                         qPrintable(QString("voxel %1: %2 against %3").arg(i).arg(tree[i]).arg(edt[i])));
            }
        }
    }
}

void TestSurfaceSearch::threads_and_auto()
{
    // Thin surfaces in a large box: Auto takes the search; thread counts do not
    // change any value (one problem split over threads, slices over threads).
    Case c;
    c.grid = MaskGrid{48, 56, 60, 3};
    c.spacing_xyz = {0.8, 0.8, 1.5};
    c.pred.assign(static_cast<std::size_t>(c.grid.voxels()), 0);
    c.target = c.pred;
    for (std::int64_t d = 0; d < c.grid.d; ++d) {
        for (std::int64_t h = 0; h < c.grid.h; ++h) {
            for (std::int64_t w = 0; w < c.grid.w; ++w) {
                const double x = 0.8 * static_cast<double>(w - 30);
                const double y = 0.8 * static_cast<double>(h - 28);
                const double z = 1.5 * static_cast<double>(d - 24);
                const auto i = static_cast<std::size_t>((d * c.grid.h + h) * c.grid.w + w);
                c.pred[i] = x * x + y * y + z * z <= 400 ? 1 : 0;
                c.target[i] =
                    (x - 2.4) * (x - 2.4) + (y + 1.6) * (y + 1.6) + (z - 1.5) * (z - 1.5) <= 441 ? 1 : 0;
            }
        }
    }
    SurfaceDistanceOptions o = options_for(c, SurfaceSearch::NearestNeighbour);
    o.threads = 1;
    const auto one = surface_distances(c.pred.data(), c.target.data(), c.grid, o);
    const auto one_slices =
        surface_distances_per_slice(c.pred.data(), c.target.data(), c.grid, SliceAxis::D, o);
    for (const int threads : {2, 3, 7}) {
        o.threads = threads;
        compare(surface_distances(c.pred.data(), c.target.data(), c.grid, o), one, 0.0);
        const auto slices =
            surface_distances_per_slice(c.pred.data(), c.target.data(), c.grid, SliceAxis::D, o);
        for (std::size_t i = 0; i < slices.size(); ++i) {
            compare(slices[i], one_slices[i], 0.0);
        }
    }
    o.threads = 0;
    const auto edt = surface_distances(c.pred.data(), c.target.data(), c.grid,
                                       options_for(c, SurfaceSearch::DistanceTransform));
    compare(one, edt, 1e-13);
    compare(one, brute_force(c, o), 1e-12);
}

void TestSurfaceSearch::random_shapes_against_the_transform()
{
    // Many random grids (2D and 3D, rows from 1 to 300 voxels), masks (noise of
    // any density, or two balls near each other or far apart, with holes),
    // spacings and thread counts: the search and the EDT agree everywhere,
    // per sample and per slice along every axis. A seeded generator keeps the
    // cases the same from run to run.
    std::mt19937 rng(20261129);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (int n = 0; n < 200; ++n) {
        Case c;
        const bool flat = u(rng) < 0.2;
        c.grid.spatial_dims = flat ? 2 : 3;
        c.grid.d = flat ? 1 : 1 + static_cast<std::int64_t>(u(rng) * 20);
        c.grid.h = 1 + static_cast<std::int64_t>(u(rng) * 25);
        c.grid.w = 1 + static_cast<std::int64_t>(u(rng) * (u(rng) < 0.3 ? 300 : 40));
        const auto voxels = static_cast<std::size_t>(c.grid.voxels());
        c.pred.resize(voxels);
        c.target.resize(voxels);
        const double pred_density = std::pow(u(rng), 3);
        const double target_density = std::pow(u(rng), 3);
        const int kind = static_cast<int>(u(rng) * 3); // 0 noise, 1 balls near, 2 balls apart
        const auto g = c.grid;
        const double r = 0.3 * static_cast<double>(std::max({g.d, g.h, g.w})) + 1;
        for (std::size_t i = 0; i < voxels; ++i) {
            if (kind == 0) {
                c.pred[i] = u(rng) < pred_density ? 1 : 0;
                c.target[i] = u(rng) < target_density ? 1 : 0;
                continue;
            }
            const auto k = static_cast<std::int64_t>(i);
            const double x = static_cast<double>(k % g.w);
            const double y = static_cast<double>((k / g.w) % g.h) - 0.5 * static_cast<double>(g.h);
            const double z = static_cast<double>(k / (g.w * g.h)) - 0.5 * static_cast<double>(g.d);
            const double xp = x - 0.3 * static_cast<double>(g.w);
            const double xt = x - (kind == 1 ? 0.35 : 0.9) * static_cast<double>(g.w);
            c.pred[i] = xp * xp + y * y + z * z <= r * r ? 1 : 0;
            c.target[i] = xt * xt + y * y + z * z <= 1.1 * r * r && u(rng) > 0.02 ? 1 : 0;
        }
        c.spacing_xyz = {0.3 + 2 * u(rng), 0.3 + 2 * u(rng), 0.3 + 2 * u(rng)};
        SurfaceDistanceOptions search = options_for(c, SurfaceSearch::NearestNeighbour);
        search.threads = 1 + static_cast<int>(u(rng) * 3);
        SurfaceDistanceOptions transform = options_for(c, SurfaceSearch::DistanceTransform);
        // compare() reports a difference; the case is named here.
        const QByteArray where = QString("case %1: %2").arg(n).arg(describe(c)).toUtf8();
        compare(surface_distances(c.pred.data(), c.target.data(), c.grid, search),
                surface_distances(c.pred.data(), c.target.data(), c.grid, transform), 1e-13);
        if (QTest::currentTestFailed()) {
            QFAIL(where.constData());
        }
        for (const auto axis : {SliceAxis::D, SliceAxis::H, SliceAxis::W}) {
            if (flat && axis != SliceAxis::D) {
                continue;
            }
            const auto x = surface_distances_per_slice(c.pred.data(), c.target.data(), c.grid, axis, search);
            const auto y =
                surface_distances_per_slice(c.pred.data(), c.target.data(), c.grid, axis, transform);
            QCOMPARE(x.size(), y.size());
            for (std::size_t i = 0; i < x.size(); ++i) {
                compare(x[i], y[i], 1e-13);
            }
            if (QTest::currentTestFailed()) {
                QFAIL(qPrintable(QString("%1, slices along axis %2").arg(where).arg(static_cast<int>(axis))));
            }
        }
    }
}

QTEST_APPLESS_MAIN(TestSurfaceSearch)
#include "test_surface_search.moc"
