// SessionPresenter's view state and the values it serves (see
// session_presenter.h): settings, cursor, sample, slice and label, the
// values and series the panel, chart and tables read, the worst slices and
// the voxel under the cursor. Loading and evaluating: session_presenter.cpp.
#include "masklens/ui/session_presenter.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace masklens::ui {
namespace {
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
}

const MetricValues* shown_values(const SampleResult& sample, std::optional<std::int64_t> label,
                                 std::optional<std::int64_t> slice)
{
    const std::vector<MetricValues>* slices = &sample.slices;
    const MetricValues* whole = &sample.values;
    if (label) {
        const auto found = std::find_if(sample.labels.begin(), sample.labels.end(),
                                        [&](const LabelResult& result) { return result.label == *label; });
        if (found == sample.labels.end()) {
            return nullptr;
        }
        slices = &found->slices;
        whole = &found->values;
    }
    if (!slice) {
        return whole;
    }
    if (*slice < 0 || *slice >= static_cast<std::int64_t>(slices->size())) {
        return nullptr;
    }
    return &(*slices)[static_cast<std::size_t>(*slice)];
}

Shape SessionPresenter::shape() const
{
    return dataset_.prediction ? dataset_.prediction->shape() : Shape{};
}

bool SessionPresenter::is3d() const
{
    const Shape s = shape();
    return s.spatial_dims == 3 && s.d > 1;
}

void SessionPresenter::setSettings(const EvaluationSettings& settings)
{
    if (settings == settings_) {
        return;
    }
    settings_ = settings;
    emit settingsChanged();
    reevaluate();
}

void SessionPresenter::setThreshold(double threshold)
{
    EvaluationSettings s = settings_;
    s.threshold = threshold;
    setSettings(s);
}

void SessionPresenter::setLogits(bool logits)
{
    setActivation(logits ? Activation::Sigmoid : Activation::None);
}

void SessionPresenter::setActivation(Activation activation)
{
    EvaluationSettings s = settings_;
    s.activation = activation;
    s.decision = activation == Activation::Softmax ? Decision::Argmax : Decision::Threshold;
    setSettings(s);
}

void SessionPresenter::setDecision(Decision decision)
{
    EvaluationSettings s = settings_;
    s.decision = decision;
    setSettings(s);
}

void SessionPresenter::setSmooth(double smooth)
{
    EvaluationSettings s = settings_;
    s.smooth = smooth;
    setSettings(s);
}

void SessionPresenter::setSliceAxis(SliceAxis axis)
{
    EvaluationSettings s = settings_;
    s.axis = axis;
    setSettings(s);
}

void SessionPresenter::setEmptyPolicy(EmptyPolicy policy)
{
    EvaluationSettings s = settings_;
    s.empty = policy;
    setSettings(s);
}

std::int64_t SessionPresenter::sampleCount() const
{
    return evaluation_ ? static_cast<std::int64_t>(evaluation_->samples.size()) : 0;
}

void SessionPresenter::setSample(std::int64_t sample)
{
    if (!hasData()) {
        return;
    }
    sample = std::clamp<std::int64_t>(sample, 0, sampleCount() - 1);
    if (sample == sample_) {
        return;
    }
    sample_ = sample;
    emit sampleChanged();
    emit cursorChanged();
}

void SessionPresenter::setCursor(const Voxel& voxel)
{
    if (!hasData()) {
        return;
    }
    const Shape s = shape();
    const Voxel clamped{std::clamp<std::int64_t>(voxel.d, 0, s.d - 1),
                        std::clamp<std::int64_t>(voxel.h, 0, s.h - 1),
                        std::clamp<std::int64_t>(voxel.w, 0, s.w - 1)};
    if (clamped == cursor_) {
        return;
    }
    cursor_ = clamped;
    emit cursorChanged();
}

void SessionPresenter::stepSlice(ViewAxis axis, std::int64_t delta)
{
    Voxel voxel = cursor_;
    axis_coordinate(voxel, axis) += delta;
    setCursor(voxel);
}

ViewAxis SessionPresenter::metricAxis() const
{
    return evaluation_ ? view_axis_of(evaluation_->statistics.axis) : ViewAxis::Axial;
}

std::int64_t SessionPresenter::sliceCount() const
{
    return evaluation_ ? evaluation_->statistics.slices_per_sample : 0;
}

std::int64_t SessionPresenter::currentSlice() const
{
    return axis_coordinate(cursor_, metricAxis());
}

void SessionPresenter::setCurrentSlice(std::int64_t slice)
{
    Voxel voxel = cursor_;
    axis_coordinate(voxel, metricAxis()) = slice;
    setCursor(voxel);
}

const std::vector<std::int64_t>& SessionPresenter::labels() const
{
    static const std::vector<std::int64_t> none;
    return evaluation_ ? evaluation_->statistics.labels : none;
}

void SessionPresenter::setLabelIndex(int index)
{
    if (index < -1 || index >= static_cast<int>(labels().size()) || index == label_index_) {
        return;
    }
    label_index_ = index;
    emit labelChanged();
}

std::optional<std::int64_t> SessionPresenter::currentLabel() const
{
    if (label_index_ < 0 || label_index_ >= static_cast<int>(labels().size())) {
        return std::nullopt;
    }
    return labels()[static_cast<std::size_t>(label_index_)];
}

void SessionPresenter::setLabelColours(LabelColours colours)
{
    if (colours == label_colours_) {
        return;
    }
    label_colours_ = std::move(colours);
    emit labelColoursChanged();
}

void SessionPresenter::setLabelDisplay(std::int64_t value, bool visible, double opacity)
{
    LabelColours colours = label_colours_;
    LabelStyle style = label_style(colours, value);
    style.visible = visible;
    style.opacity = std::clamp(opacity, 0.0, 1.0);
    const auto at = std::lower_bound(colours.entries.begin(), colours.entries.end(), value,
                                     [](const LabelStyle& entry, std::int64_t v) { return entry.value < v; });
    if (at != colours.entries.end() && at->value == value) {
        *at = style;
    } else {
        colours.entries.insert(at, style);
    }
    setLabelColours(std::move(colours));
}

std::vector<LabelStyle> SessionPresenter::labelStyles() const
{
    std::vector<LabelStyle> styles;
    for (const std::int64_t label : labels()) {
        styles.push_back(label_style(label_colours_, label));
    }
    return styles;
}

void SessionPresenter::setLayers(const LayerSettings& layers)
{
    if (layers == layers_) {
        return;
    }
    layers_ = layers;
    emit layersChanged();
}

void SessionPresenter::setLesionOverlay(std::shared_ptr<const LesionOverlay> overlay)
{
    if (overlay == lesion_overlay_) {
        return;
    }
    lesion_overlay_ = std::move(overlay);
    emit lesionOverlayChanged();
}

void SessionPresenter::setChartMetric(Metric metric)
{
    if (metric == chart_metric_) {
        return;
    }
    chart_metric_ = metric;
    emit chartMetricChanged();
}

const Evaluation* SessionPresenter::sourceOf(Metric metric) const
{
    if (is_distance_metric(metric)) {
        return distances_.evaluation();
    }
    return evaluation_.get();
}

std::optional<std::size_t> SessionPresenter::metricIndex(Metric metric) const
{
    const Evaluation* source = sourceOf(metric);
    if (!source) {
        return std::nullopt;
    }
    const auto& metrics = source->metrics;
    const auto found = std::find(metrics.begin(), metrics.end(), metric);
    if (found == metrics.end()) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(found - metrics.begin());
}

const MetricValues* SessionPresenter::sampleValues() const
{
    if (!evaluation_ || sample_ < 0 || sample_ >= sampleCount()) {
        return nullptr;
    }
    return &evaluation_->samples[static_cast<std::size_t>(sample_)].values;
}

const MetricValues* SessionPresenter::sliceValues() const
{
    if (!evaluation_ || sample_ < 0 || sample_ >= sampleCount()) {
        return nullptr;
    }
    const auto& slices = evaluation_->samples[static_cast<std::size_t>(sample_)].slices;
    const std::int64_t slice = currentSlice();
    if (slice < 0 || slice >= static_cast<std::int64_t>(slices.size())) {
        return nullptr;
    }
    return &slices[static_cast<std::size_t>(slice)];
}

double SessionPresenter::sliceValue(Metric metric) const
{
    const Evaluation* source = sourceOf(metric);
    const auto index = metricIndex(metric);
    if (!source || !index || sample_ < 0 || sample_ >= static_cast<std::int64_t>(source->samples.size())) {
        return kNan;
    }
    const MetricValues* values =
        shown_values(source->samples[static_cast<std::size_t>(sample_)], followedLabel(), currentSlice());
    return values && *index < values->size() ? (*values)[*index] : kNan;
}

double SessionPresenter::sampleValue(Metric metric) const
{
    const Evaluation* source = sourceOf(metric);
    const auto index = metricIndex(metric);
    if (!source || !index || sample_ < 0 || sample_ >= static_cast<std::int64_t>(source->samples.size())) {
        return kNan;
    }
    const MetricValues* values =
        shown_values(source->samples[static_cast<std::size_t>(sample_)], followedLabel(), std::nullopt);
    return values && *index < values->size() ? (*values)[*index] : kNan;
}

double SessionPresenter::sampleValueOf(std::int64_t sample, Metric metric) const
{
    const Evaluation* source = sourceOf(metric);
    const auto index = metricIndex(metric);
    if (!source || !index || sample < 0 || sample >= static_cast<std::int64_t>(source->samples.size())) {
        return kNan;
    }
    const MetricValues* values =
        shown_values(source->samples[static_cast<std::size_t>(sample)], followedLabel(), std::nullopt);
    return values && *index < values->size() ? (*values)[*index] : kNan;
}

double SessionPresenter::labelValueOf(std::int64_t sample, std::int64_t label, Metric metric) const
{
    const Evaluation* source = sourceOf(metric);
    const auto index = metricIndex(metric);
    if (!source || !index || sample < 0 || sample >= static_cast<std::int64_t>(source->samples.size())) {
        return kNan;
    }
    // Matched by label value (each pass reports its own label list).
    for (const LabelResult& result : source->samples[static_cast<std::size_t>(sample)].labels) {
        if (result.label == label) {
            return *index < result.values.size() ? result.values[*index] : kNan;
        }
    }
    return kNan;
}

std::vector<double> SessionPresenter::sliceSeries(Metric metric) const
{
    std::vector<double> series;
    const Evaluation* source = sourceOf(metric);
    const auto index = metricIndex(metric);
    if (!source || !index || sample_ < 0 || sample_ >= static_cast<std::int64_t>(source->samples.size())) {
        return series;
    }
    for (const MetricValues& values : source->samples[static_cast<std::size_t>(sample_)].slices) {
        series.push_back(*index < values.size() ? values[*index] : kNan);
    }
    return series;
}

std::vector<double> SessionPresenter::labelSliceSeries(Metric metric) const
{
    std::vector<double> series;
    const Evaluation* source = sourceOf(metric);
    const auto index = metricIndex(metric);
    if (!source || !index || sample_ < 0 || sample_ >= static_cast<std::int64_t>(source->samples.size()) ||
        label_index_ < 0) {
        return series;
    }
    const auto& labels = source->samples[static_cast<std::size_t>(sample_)].labels;
    if (label_index_ >= static_cast<int>(labels.size())) {
        return series;
    }
    for (const MetricValues& values : labels[static_cast<std::size_t>(label_index_)].slices) {
        series.push_back(*index < values.size() ? values[*index] : kNan);
    }
    return series;
}

std::vector<double> SessionPresenter::chartSeries(Metric metric) const
{
    return chart_per_label_ && currentLabel() ? labelSliceSeries(metric) : sliceSeries(metric);
}

void SessionPresenter::setChartPerLabel(bool per_label)
{
    if (per_label == chart_per_label_) {
        return;
    }
    chart_per_label_ = per_label;
    emit chartMetricChanged();
}

std::optional<std::int64_t> SessionPresenter::worstSlice(Metric metric, int rank) const
{
    const std::vector<double> series = chartSeries(metric);
    std::vector<std::int64_t> order;
    for (std::size_t i = 0; i < series.size(); ++i) {
        if (!std::isnan(series[i])) {
            order.push_back(static_cast<std::int64_t>(i));
        }
    }
    const bool high = higher_is_worse(metric);
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
        const double va = series[static_cast<std::size_t>(a)];
        const double vb = series[static_cast<std::size_t>(b)];
        return high ? va > vb : va < vb;
    });
    if (rank < 0 || rank >= static_cast<int>(order.size())) {
        return std::nullopt;
    }
    return order[static_cast<std::size_t>(rank)];
}

PairView SessionPresenter::pairView() const
{
    PairView view;
    if (evaluation_) {
        view.pairing = evaluation_->statistics.pairing;
    }
    view.sample = sample_;
    view.label = currentLabel();
    view.rule = evaluated_settings_.rule();
    return view;
}

VoxelClass SessionPresenter::classifyVoxel(const Voxel& voxel) const
{
    if (!hasData()) {
        return {};
    }
    return classify(*dataset_.prediction, *dataset_.target, pairView(), voxel);
}

std::array<double, 3> SessionPresenter::physicalPosition(const Voxel& voxel) const
{
    if (!dataset_.target) {
        return {};
    }
    return physical_position(
        dataset_.target->geometry(),
        {static_cast<double>(voxel.d), static_cast<double>(voxel.h), static_cast<double>(voxel.w)});
}

} // namespace masklens::ui
