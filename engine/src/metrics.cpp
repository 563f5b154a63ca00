#include "masklens/engine/metrics.h"

#include "masklens/engine/error.h"

#include <array>

namespace masklens {

namespace {
constexpr std::array<std::string_view, kMetricCount> kNames = {
    "bce",
    "mse",
    "mae",
    "focal_loss",
    "dice_loss",
    "iou_loss",
    "tversky_loss",
    "dice",
    "iou",
    "precision",
    "recall",
    "specificity",
    "tp",
    "fp",
    "fn",
    "tn",
    "hd",
    "hd95",
    "assd",
    "nsd",
    "ce",
    "dice_ce",
    "generalized_dice_loss",
    "hd_p2t",
    "hd_t2p",
    "hd95_p2t",
    "hd95_t2p",
    "asd_p2t",
    "asd_t2p",
};
} // namespace

std::string_view metric_name(Metric metric) noexcept
{
    return kNames[static_cast<std::size_t>(metric)];
}

std::optional<Metric> parse_metric(std::string_view name) noexcept
{
    for (std::size_t i = 0; i < kNames.size(); ++i) {
        if (kNames[i] == name) {
            return static_cast<Metric>(i);
        }
    }
    return std::nullopt;
}

std::vector<Metric> parse_metric_list(std::string_view list)
{
    std::vector<Metric> metrics;
    while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string_view name = list.substr(0, comma);
        if (name == "all") {
            for (Metric metric : all_metrics()) {
                metrics.push_back(metric);
            }
        } else if (const auto metric = parse_metric(name)) {
            metrics.push_back(*metric);
        } else {
            std::string known;
            for (const auto known_name : kNames) {
                known += (known.empty() ? "" : ", ") + std::string(known_name);
            }
            throw_usage_error("unknown metric '" + std::string(name) + "' (known: " + known + ", all)");
        }
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
    if (metrics.empty()) {
        throw_usage_error("--metrics needs at least one metric");
    }
    // Keep the first occurrence of each metric, in the order given.
    std::vector<Metric> unique;
    for (Metric metric : metrics) {
        bool seen = false;
        for (Metric kept : unique) {
            seen = seen || kept == metric;
        }
        if (!seen) {
            unique.push_back(metric);
        }
    }
    return unique;
}

std::vector<Metric> default_metrics()
{
    return {Metric::Bce,  Metric::Mse, Metric::Mae,       Metric::DiceLoss, Metric::IouLoss,
            Metric::Dice, Metric::Iou, Metric::Precision, Metric::Recall};
}

std::vector<Metric> all_metrics()
{
    std::vector<Metric> metrics;
    for (int i = 0; i < kMetricCount; ++i) {
        metrics.push_back(static_cast<Metric>(i));
    }
    return metrics;
}

bool is_elementwise_mean(Metric metric) noexcept
{
    return metric == Metric::Bce || metric == Metric::Mse || metric == Metric::Mae ||
           metric == Metric::FocalLoss;
}

bool is_count(Metric metric) noexcept
{
    return metric == Metric::Tp || metric == Metric::Fp || metric == Metric::Fn || metric == Metric::Tn;
}

bool is_label_metric(Metric metric) noexcept
{
    return !is_elementwise_mean(metric) && !is_class_combination(metric);
}

bool is_class_combination(Metric metric) noexcept
{
    return metric == Metric::Ce || metric == Metric::DiceCe || metric == Metric::GeneralizedDiceLoss;
}

bool is_distance_metric(Metric metric) noexcept
{
    switch (metric) {
    case Metric::Hd:
    case Metric::Hd95:
    case Metric::Assd:
    case Metric::Nsd:
    case Metric::HdP2t:
    case Metric::HdT2p:
    case Metric::Hd95P2t:
    case Metric::Hd95T2p:
    case Metric::AsdP2t:
    case Metric::AsdT2p: return true;
    default: return false;
    }
}

bool higher_is_worse(Metric metric) noexcept
{
    switch (metric) {
    case Metric::Dice:
    case Metric::Iou:
    case Metric::Precision:
    case Metric::Recall:
    case Metric::Specificity:
    case Metric::Nsd:
    case Metric::Tp:
    case Metric::Tn: return false;
    default: return true;
    }
}

std::string_view metric_unit(Metric metric) noexcept
{
    return is_distance_metric(metric) && metric != Metric::Nsd ? "mm" : "";
}

bool needs_probabilities(Metric metric) noexcept
{
    return metric == Metric::Bce || metric == Metric::FocalLoss;
}

} // namespace masklens
