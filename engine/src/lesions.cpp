// Lesion matching and lesion metrics (lesions.h).
#include "masklens/engine/lesions.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace masklens {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Voxels per label (index 0: background).
std::vector<std::int64_t> label_sizes(const Components& components)
{
    std::vector<std::int64_t> sizes(static_cast<std::size_t>(components.count) + 1, 0);
    for (const std::uint32_t label : components.labels) {
        ++sizes[label];
    }
    return sizes;
}

struct Overlap {
    std::uint32_t target, predicted;
    std::int64_t voxels;
};

// Every pair of kept lesions sharing at least one voxel, with its shared voxels.
std::vector<Overlap> overlaps(const Components& target, const Components& predicted,
                              const std::vector<bool>& keep_target, const std::vector<bool>& keep_predicted)
{
    std::unordered_map<std::uint64_t, std::int64_t> shared;
    const std::size_t voxels = target.labels.size();
    std::size_t i = 0;
    while (i < voxels) {
        const std::uint32_t t = target.labels[i], p = predicted.labels[i];
        std::size_t j = i + 1;
        while (j < voxels && target.labels[j] == t && predicted.labels[j] == p) {
            ++j;
        }
        if (t != 0 && p != 0 && keep_target[t] && keep_predicted[p]) {
            shared[(static_cast<std::uint64_t>(t) << 32) | p] += static_cast<std::int64_t>(j - i);
        }
        i = j;
    }
    std::vector<Overlap> pairs;
    pairs.reserve(shared.size());
    for (const auto& [key, count] : shared) {
        pairs.push_back(
            {static_cast<std::uint32_t>(key >> 32), static_cast<std::uint32_t>(key & 0xFFFFFFFFU), count});
    }
    std::sort(pairs.begin(), pairs.end(), [](const Overlap& a, const Overlap& b) {
        return std::tie(a.target, a.predicted) < std::tie(b.target, b.predicted);
    });
    return pairs;
}

double ratio(double numerator, double denominator, EmptyPolicy policy)
{
    if (denominator == 0) {
        switch (policy) {
        case EmptyPolicy::Nan: return kNaN;
        case EmptyPolicy::Zero: return 0.0;
        case EmptyPolicy::One: return 1.0;
        }
    }
    return numerator / denominator;
}

} // namespace

std::string_view lesion_match_name(LesionMatch match) noexcept
{
    return match == LesionMatch::Iou ? "iou" : "overlap";
}

LesionCounts match_lesions(const std::uint8_t* prediction, const std::uint8_t* target,
                           const ComponentGrid& grid, const LesionOptions& options, int threads)
{
    const Components target_cc = label_components(target, grid, options.connectivity, threads, "target");
    const Components predicted_cc =
        label_components(prediction, grid, options.connectivity, threads, "prediction");
    const std::vector<std::int64_t> target_size = label_sizes(target_cc);
    const std::vector<std::int64_t> predicted_size = label_sizes(predicted_cc);
    const auto kept = [&](const std::vector<std::int64_t>& sizes, std::int64_t& count) {
        std::vector<bool> keep(sizes.size(), false);
        for (std::size_t l = 1; l < sizes.size(); ++l) {
            keep[l] = sizes[l] >= options.min_size;
            count += keep[l] ? 1 : 0;
        }
        return keep;
    };
    LesionCounts counts;
    const std::vector<bool> keep_target = kept(target_size, counts.target);
    const std::vector<bool> keep_predicted = kept(predicted_size, counts.predicted);
    std::vector<Overlap> pairs = overlaps(target_cc, predicted_cc, keep_target, keep_predicted);

    std::vector<bool> target_matched(target_size.size(), false),
        predicted_matched(predicted_size.size(), false);
    if (options.match == LesionMatch::Overlap) {
        counts.one_to_one = false;
        for (const Overlap& pair : pairs) {
            target_matched[pair.target] = true;
            predicted_matched[pair.predicted] = true;
        }
    } else {
        const auto iou = [&](const Overlap& pair) {
            const auto shared = static_cast<double>(pair.voxels);
            return shared /
                   (static_cast<double>(target_size[pair.target] + predicted_size[pair.predicted]) - shared);
        };
        std::vector<std::pair<double, std::size_t>> order;
        order.reserve(pairs.size());
        for (std::size_t k = 0; k < pairs.size(); ++k) {
            order.emplace_back(iou(pairs[k]), k);
        }
        // Decreasing IoU; equal IoU keeps the (target, prediction) order.
        std::stable_sort(order.begin(), order.end(),
                         [](const auto& a, const auto& b) { return a.first > b.first; });
        for (const auto& [value, k] : order) {
            const Overlap& pair = pairs[k];
            if (value < options.iou_threshold || target_matched[pair.target] ||
                predicted_matched[pair.predicted]) {
                continue;
            }
            target_matched[pair.target] = predicted_matched[pair.predicted] = true;
            counts.iou_sum += value;
        }
    }
    counts.tp = std::count(target_matched.begin(), target_matched.end(), true);
    counts.matched_predicted = std::count(predicted_matched.begin(), predicted_matched.end(), true);
    return counts;
}

double lesion_metric_value(Metric metric, const LesionCounts& c, EmptyPolicy empty)
{
    const auto tp = static_cast<double>(c.tp);
    const auto matched = static_cast<double>(c.matched_predicted);
    const auto target = static_cast<double>(c.target);
    const auto predicted = static_cast<double>(c.predicted);
    switch (metric) {
    case Metric::LesionTp: return tp;
    case Metric::LesionFp: return static_cast<double>(c.fp());
    case Metric::LesionFn: return static_cast<double>(c.fn());
    case Metric::LesionPrecision: return ratio(matched, predicted, empty);
    case Metric::LesionRecall: return ratio(tp, target, empty);
    case Metric::LesionF1:
        if (target == 0 && predicted == 0) {
            return ratio(0, 0, empty);
        }
        if (target == 0 || predicted == 0 || matched + tp == 0) {
            return 0.0;
        }
        // 2 P R / (P + R) with P = matched / predicted, R = tp / target.
        return 2 * matched * tp / (matched * target + tp * predicted);
    case Metric::Rq:
    case Metric::Sq:
    case Metric::Pq: {
        if (!c.one_to_one || (target == 0 && predicted == 0)) {
            return kNaN;
        }
        const double rq =
            c.tp == 0 ? 0.0
                      : tp / (tp + 0.5 * static_cast<double>(c.fp()) + 0.5 * static_cast<double>(c.fn()));
        const double sq = c.tp == 0 ? 0.0 : c.iou_sum / tp;
        if (metric == Metric::Rq) {
            return rq;
        }
        if (metric == Metric::Sq) {
            return sq;
        }
        return c.tp == 0 ? 0.0 : sq * rq;
    }
    default: return kNaN;
    }
}

} // namespace masklens
