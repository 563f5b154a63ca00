// From directed distances to the reported values: numpy-compatible
// percentiles and sums, the empty-surface rules and the hd_percentile rule,
// for plain (voxel) and area-weighted (subvoxel) distances.
#include "masklens/engine/surface_distance.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

namespace masklens {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Neumaier-compensated sum.
double accurate_sum(const std::vector<double>& values)
{
    double sum = 0;
    double compensation = 0;
    for (const double v : values) {
        const double t = sum + v;
        if (std::abs(sum) >= std::abs(v)) {
            compensation += (sum - t) + v;
        } else {
            compensation += (v - t) + sum;
        }
        sum = t;
    }
    return sum + compensation;
}

// numpy's pairwise summation (float64 add.reduce over a 1-D array).
double numpy_pairwise_sum(const double* a, std::int64_t n)
{
    if (n < 8) {
        double res = 0.0;
        for (std::int64_t i = 0; i < n; ++i) {
            res += a[i];
        }
        return res;
    }
    if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; ++j) {
            r[j] = a[j];
        }
        std::int64_t i = 8;
        for (; i < n - (n % 8); i += 8) {
            for (int j = 0; j < 8; ++j) {
                r[j] += a[i + j];
            }
        }
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; ++i) {
            res += a[i];
        }
        return res;
    }
    std::int64_t n2 = n / 2;
    n2 -= n2 % 8;
    return numpy_pairwise_sum(a, n2) + numpy_pairwise_sum(a + n2, n - n2);
}

} // namespace

double percentile_linear(std::vector<double>& values, double p)
{
    const auto n = static_cast<std::int64_t>(values.size());
    if (n == 0) {
        return kNaN;
    }
    // numpy.percentile(method="linear"): virtual index (n - 1) q, then lerp.
    const double q = p / 100.0;
    const double position = static_cast<double>(n - 1) * q;
    const auto below = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(position)), 0, n - 1);
    const double t = position - static_cast<double>(below);
    auto nth = values.begin() + below;
    std::nth_element(values.begin(), nth, values.end());
    const double a = *nth;
    if (below + 1 >= n) {
        return a;
    }
    const double b = *std::min_element(nth + 1, values.end());
    const double diff = b - a;
    return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

namespace {

// The values when one or both surfaces are empty (MONAI): both empty -> NaN;
// exactly one -> every distance from the other surface is +inf and nsd 0.
// Returns false when both surfaces have elements.
bool fill_empty_surfaces(std::int64_t n_pt, std::int64_t n_tp, const SurfaceDistanceOptions& options,
                         SurfaceDistances& r)
{
    if (n_pt == 0 && n_tp == 0) {
        r.hd = r.hd_percentile = r.assd = r.nsd = kNaN;
        r.percentile_pred_to_target = r.percentile_target_to_pred = kNaN;
        r.mean_pred_to_target = r.mean_target_to_pred = kNaN;
        r.max_pred_to_target = r.max_target_to_pred = kNaN;
        return true;
    }
    if (n_pt == 0 || n_tp == 0) {
        r.hd = r.hd_percentile = r.assd = kInf;
        r.nsd = options.nsd_tolerance_mm ? 0.0 : kNaN;
        // One surface empty: both directions infinite, as MONAI reports them
        // (hd and assd are too).
        r.percentile_pred_to_target = r.mean_pred_to_target = r.max_pred_to_target = kInf;
        r.percentile_target_to_pred = r.mean_target_to_pred = r.max_target_to_pred = kInf;
        return true;
    }
    return false;
}

// The directed percentiles and hd_percentile by options.rule (Pooled: the
// percentile of both directions together), for plain distances (voxel mode)
// or (distance, area) pairs (subvoxel mode) with the matching `percentile`.
// Selection reorders the vectors.
template <typename Item, typename Percentile>
void apply_percentile_rule(SurfaceDistances& r, std::vector<Item>& pred_to_target,
                           std::vector<Item>& target_to_pred, const SurfaceDistanceOptions& options,
                           Percentile percentile)
{
    if (options.rule == HausdorffRule::Pooled) {
        std::vector<Item> pooled;
        pooled.reserve(pred_to_target.size() + target_to_pred.size());
        pooled.insert(pooled.end(), pred_to_target.begin(), pred_to_target.end());
        pooled.insert(pooled.end(), target_to_pred.begin(), target_to_pred.end());
        r.hd_percentile = percentile(pooled, options.percentile);
    }
    r.percentile_pred_to_target = percentile(pred_to_target, options.percentile);
    r.percentile_target_to_pred = percentile(target_to_pred, options.percentile);
    if (options.rule == HausdorffRule::Max) {
        r.hd_percentile = std::max(r.percentile_pred_to_target, r.percentile_target_to_pred);
    } else if (options.rule == HausdorffRule::Mean) {
        r.hd_percentile = 0.5 * (r.percentile_pred_to_target + r.percentile_target_to_pred);
    }
}

} // namespace

SurfaceDistances summarize_surface_distances(std::vector<double>& pred_to_target,
                                             std::vector<double>& target_to_pred,
                                             const SurfaceDistanceOptions& options)
{
    SurfaceDistances r;
    const auto n_pt = static_cast<std::int64_t>(pred_to_target.size());
    const auto n_tp = static_cast<std::int64_t>(target_to_pred.size());
    r.pred_surface_voxels = n_pt;
    r.target_surface_voxels = n_tp;
    if (fill_empty_surfaces(n_pt, n_tp, options, r)) {
        return r;
    }
    const double max_pt = *std::max_element(pred_to_target.begin(), pred_to_target.end());
    const double max_tp = *std::max_element(target_to_pred.begin(), target_to_pred.end());
    r.hd = std::max(max_pt, max_tp);
    r.max_pred_to_target = max_pt;
    r.max_target_to_pred = max_tp;
    const double sum_pt = accurate_sum(pred_to_target);
    const double sum_tp = accurate_sum(target_to_pred);
    r.mean_pred_to_target = sum_pt / static_cast<double>(n_pt);
    r.mean_target_to_pred = sum_tp / static_cast<double>(n_tp);
    r.assd = (sum_pt + sum_tp) / static_cast<double>(n_pt + n_tp);
    if (options.nsd_tolerance_mm) {
        const double tau = *options.nsd_tolerance_mm;
        const auto within = [tau](const std::vector<double>& v) {
            return std::count_if(v.begin(), v.end(), [tau](double x) { return x <= tau; });
        };
        r.nsd = static_cast<double>(within(pred_to_target) + within(target_to_pred)) /
                static_cast<double>(n_pt + n_tp);
    } else {
        r.nsd = kNaN;
    }
    apply_percentile_rule(r, pred_to_target, target_to_pred, options,
                          [](auto& values, double p) { return percentile_linear(values, p); });
    return r;
}

double percentile_weighted(std::vector<std::pair<double, double>>& values, double p)
{
    const auto n = static_cast<std::int64_t>(values.size());
    if (n == 0) {
        return kNaN;
    }
    std::sort(values.begin(), values.end());
    std::vector<double> areas(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        areas[i] = values[i].second;
    }
    const double total = numpy_pairwise_sum(areas.data(), n);
    const double q = p / 100.0;
    double cumulative = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        cumulative += areas[static_cast<std::size_t>(i)];
        if (cumulative / total >= q) {
            return values[static_cast<std::size_t>(i)].first;
        }
    }
    return values.back().first;
}

SurfaceDistances summarize_weighted_surface_distances(std::vector<std::pair<double, double>>& pred_to_target,
                                                      std::vector<std::pair<double, double>>& target_to_pred,
                                                      const SurfaceDistanceOptions& options)
{
    SurfaceDistances r;
    const auto n_pt = static_cast<std::int64_t>(pred_to_target.size());
    const auto n_tp = static_cast<std::int64_t>(target_to_pred.size());
    r.pred_surface_voxels = n_pt;
    r.target_surface_voxels = n_tp;
    const auto area_of = [](const std::vector<std::pair<double, double>>& v) {
        std::vector<double> a(v.size());
        for (std::size_t i = 0; i < v.size(); ++i) {
            a[i] = v[i].second;
        }
        return accurate_sum(a);
    };
    r.pred_surface_area = area_of(pred_to_target);
    r.target_surface_area = area_of(target_to_pred);
    if (fill_empty_surfaces(n_pt, n_tp, options, r)) {
        return r;
    }
    const auto weighted = [](const std::vector<std::pair<double, double>>& v) {
        std::vector<double> products(v.size());
        for (std::size_t i = 0; i < v.size(); ++i) {
            products[i] = v[i].first * v[i].second;
        }
        return accurate_sum(products);
    };
    const auto largest = [](const std::vector<std::pair<double, double>>& v) {
        double value = 0;
        for (const auto& x : v) {
            value = std::max(value, x.first);
        }
        return value;
    };
    r.max_pred_to_target = largest(pred_to_target);
    r.max_target_to_pred = largest(target_to_pred);
    r.hd = std::max(r.max_pred_to_target, r.max_target_to_pred);
    const double sum_pt = weighted(pred_to_target);
    const double sum_tp = weighted(target_to_pred);
    r.mean_pred_to_target = sum_pt / r.pred_surface_area;
    r.mean_target_to_pred = sum_tp / r.target_surface_area;
    r.assd = (sum_pt + sum_tp) / (r.pred_surface_area + r.target_surface_area);
    if (options.nsd_tolerance_mm) {
        const double tau = *options.nsd_tolerance_mm;
        const auto within = [tau](const std::vector<std::pair<double, double>>& v) {
            std::vector<double> a;
            for (const auto& x : v) {
                if (x.first <= tau) {
                    a.push_back(x.second);
                }
            }
            return accurate_sum(a);
        };
        r.nsd =
            (within(pred_to_target) + within(target_to_pred)) / (r.pred_surface_area + r.target_surface_area);
    } else {
        r.nsd = kNaN;
    }
    apply_percentile_rule(r, pred_to_target, target_to_pred, options,
                          [](auto& values, double p) { return percentile_weighted(values, p); });
    return r;
}

} // namespace masklens
