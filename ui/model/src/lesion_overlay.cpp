// The Lesions display mode's overlay (lesion_overlay.h).
#include "masklens/ui/lesion_overlay.h"

#include "masklens/ui/lesion_list.h"

namespace masklens::ui {

LesionPaint LesionOverlay::target_paint(std::uint32_t id) const noexcept
{
    if (id == 0 || id >= target_status.size()) {
        return LesionPaint::None;
    }
    return target_status[id] == LesionStatus::Tp ? LesionPaint::Matched : LesionPaint::Missed;
}

LesionPaint LesionOverlay::predicted_paint(std::uint32_t id) const noexcept
{
    if (id == 0 || id >= predicted_status.size()) {
        return LesionPaint::None;
    }
    return predicted_status[id] == LesionStatus::Fp ? LesionPaint::FalseLesion
                                                    : LesionPaint::MatchedPrediction;
}

std::shared_ptr<const LesionOverlay> make_lesion_overlay(const Evaluation& evaluation,
                                                         const Volume& prediction, const Volume& target,
                                                         std::int64_t sample,
                                                         std::optional<std::int64_t> label)
{
    auto overlay = std::make_shared<LesionOverlay>();
    overlay->shape = prediction.shape();
    overlay->sample = sample;
    const std::vector<LesionRow> rows = lesion_rows_of(evaluation, sample, label);
    if (rows.empty()) {
        return overlay; // nothing to paint
    }
    overlay->label = rows.front().label;
    overlay->lesions = std::make_shared<const SampleLesions>(
        sample_lesions(evaluation, prediction, target, sample, overlay->label));
    overlay->target_status.assign(static_cast<std::size_t>(overlay->lesions->labels.target.count) + 1,
                                  LesionStatus::Fn);
    overlay->predicted_status.assign(static_cast<std::size_t>(overlay->lesions->labels.predicted.count) + 1,
                                     LesionStatus::Fp);
    for (const LesionRow& row : rows) {
        auto& status =
            row.lesion.side == LesionSide::Target ? overlay->target_status : overlay->predicted_status;
        const auto id = static_cast<std::size_t>(row.lesion.id);
        if (id < status.size()) { // always, unless the volumes changed since the evaluation
            status[id] = row.lesion.status;
        }
    }
    return overlay;
}

std::shared_ptr<const LesionOverlay> with_selection(const LesionOverlay& overlay,
                                                    std::optional<LesionKey> selected)
{
    auto copy = std::make_shared<LesionOverlay>(overlay); // the labels are shared, not copied
    copy->selected = selected;
    return copy;
}

Rgb lesion_paint_colour(LesionPaint paint, const LayerSettings& layers)
{
    switch (paint) {
    case LesionPaint::Matched:
    case LesionPaint::MatchedPrediction: return layers.true_positive;
    case LesionPaint::Missed: return layers.false_negative;
    case LesionPaint::FalseLesion: return layers.false_positive;
    case LesionPaint::None: break;
    }
    return {};
}

} // namespace masklens::ui
