#include "masklens/ui/session_presenter.h"

#include "masklens/engine/error.h"
#include "masklens/engine/statistics.h"
#include "masklens/io/read_volume.h"

#include <QCoreApplication>
#include <QMetaObject>
#include <QPointer>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <cmath>
#include <limits>

namespace masklens::ui {

namespace {
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
}

std::vector<Metric> gui_metrics()
{
    std::vector<Metric> metrics;
    for (const Metric metric : all_metrics()) {
        if (static_cast<int>(metric) <= static_cast<int>(Metric::Tn)) {
            metrics.push_back(metric);
        }
    }
    return metrics;
}

bool higher_is_worse(Metric metric) noexcept
{
    switch (metric) {
    case Metric::Dice:
    case Metric::Iou:
    case Metric::Precision:
    case Metric::Recall:
    case Metric::Specificity:
    case Metric::Tp:
    case Metric::Tn: return false;
    default: return true;
    }
}

struct SessionPresenter::Job {
    QString prediction_path;
    QString target_path;
    std::shared_ptr<const Volume> prediction; // already loaded (null: read prediction_path)
    std::shared_ptr<const Volume> target;
    EvaluationSettings settings;
    bool new_dataset = false;
    std::shared_ptr<std::atomic<bool>> cancel;
};

struct SessionPresenter::Result {
    bool ok = false;
    bool cancelled = false;
    QString text;
    QString details;
    Dataset dataset;
    std::shared_ptr<const Evaluation> evaluation;
    EvaluationSettings settings;
    bool new_dataset = false;
};

namespace {

StatisticsOptions statistics_options(const EvaluationSettings& settings, std::vector<Metric> metrics)
{
    StatisticsOptions options;
    options.metric.threshold = settings.threshold;
    options.metric.logits = settings.logits;
    options.metric.smooth_nr = settings.smooth;
    options.metric.smooth_dr = settings.smooth;
    options.metric.empty = settings.empty;
    options.metrics = std::move(metrics);
    options.axis = settings.axis;
    return options;
}

QString describe(const Error& error)
{
    switch (error.kind()) {
    case Error::Kind::Input: return QStringLiteral("The file cannot be used.");
    case Error::Kind::Usage: return QStringLiteral("The options are not valid for these files.");
    case Error::Kind::Device: return QStringLiteral("The compute device failed.");
    case Error::Kind::Cancelled: return QStringLiteral("Cancelled.");
    }
    return QStringLiteral("Error.");
}

} // namespace

SessionPresenter::SessionPresenter(QObject* parent) : QObject(parent) {}

SessionPresenter::~SessionPresenter()
{
    if (cancel_flag_) {
        cancel_flag_->store(true);
    }
    if (watcher_) {
        watcher_->disconnect(this);
        watcher_->waitForFinished();
    }
}

void SessionPresenter::openFiles(const QString& prediction_path, const QString& target_path)
{
    auto job = std::make_shared<Job>();
    job->prediction_path = prediction_path;
    job->target_path = target_path;
    job->settings = settings_;
    job->new_dataset = true;
    start(std::move(job));
}

void SessionPresenter::openPrediction(const QString& path)
{
    auto job = std::make_shared<Job>();
    job->prediction_path = path;
    job->target = dataset_.target;
    job->target_path = dataset_.target_path;
    job->settings = settings_;
    job->new_dataset = true;
    if (!job->target) {
        emit errorOccurred(tr("Open a target first."), tr("A prediction is evaluated against a target."));
        return;
    }
    start(std::move(job));
}

void SessionPresenter::openTarget(const QString& path)
{
    auto job = std::make_shared<Job>();
    job->target_path = path;
    job->prediction = dataset_.prediction;
    job->prediction_path = dataset_.prediction_path;
    job->settings = settings_;
    job->new_dataset = true;
    if (!job->prediction) {
        emit errorOccurred(tr("Open a prediction first."), tr("A target is compared with a prediction."));
        return;
    }
    start(std::move(job));
}

void SessionPresenter::setVolumes(std::shared_ptr<const Volume> prediction,
                                  std::shared_ptr<const Volume> target, const QString& prediction_path,
                                  const QString& target_path)
{
    auto job = std::make_shared<Job>();
    job->prediction = std::move(prediction);
    job->target = std::move(target);
    job->prediction_path = prediction_path;
    job->target_path = target_path;
    job->settings = settings_;
    job->new_dataset = true;
    start(std::move(job));
}

void SessionPresenter::reevaluate()
{
    if (!hasData()) {
        return;
    }
    if (busy_) {
        pending_reevaluate_ = true;
        return;
    }
    auto job = std::make_shared<Job>();
    job->prediction = dataset_.prediction;
    job->target = dataset_.target;
    job->prediction_path = dataset_.prediction_path;
    job->target_path = dataset_.target_path;
    job->settings = settings_;
    job->new_dataset = false;
    start(std::move(job));
}

void SessionPresenter::cancel()
{
    if (cancel_flag_) {
        cancel_flag_->store(true);
    }
    pending_reevaluate_ = false;
}

void SessionPresenter::waitForIdle()
{
    while (busy_ && watcher_) {
        watcher_->waitForFinished();
        // Deliver the finished() signal (queued from the worker).
        QCoreApplication::processEvents();
    }
}

void SessionPresenter::start(std::shared_ptr<Job> job)
{
    if (busy_ && job->new_dataset) {
        cancel();
        waitForIdle();
    }
    if (busy_) {
        pending_reevaluate_ = true;
        return;
    }
    cancel_flag_ = std::make_shared<std::atomic<bool>>(false);
    job->cancel = cancel_flag_;

    auto last_percent = std::make_shared<std::atomic<int>>(-1);
    QPointer<SessionPresenter> self(this);
    auto progress = [self, last_percent](double fraction) {
        const int percent = static_cast<int>(fraction * 100.0);
        if (last_percent->exchange(percent) == percent || !self) {
            return;
        }
        QMetaObject::invokeMethod(
            self.data(),
            [self, fraction]() {
                if (self) {
                    emit self->progressChanged(fraction);
                }
            },
            Qt::QueuedConnection);
    };

    auto run = [job, progress]() -> Result {
        Result result;
        result.settings = job->settings;
        result.new_dataset = job->new_dataset;
        try {
            auto prediction = job->prediction;
            auto target = job->target;
            if (!prediction) {
                prediction =
                    std::make_shared<const Volume>(io::read_volume(job->prediction_path.toStdString()));
            }
            if (job->cancel->load()) {
                throw Error(Error::Kind::Cancelled, {}, "cancelled");
            }
            if (!target) {
                target = std::make_shared<const Volume>(io::read_volume(job->target_path.toStdString()));
            }
            StatisticsOptions options = statistics_options(job->settings, gui_metrics());
            options.progress = progress;
            options.cancel = job->cancel.get();
            std::shared_ptr<const Evaluation> evaluation;
            try {
                evaluation = std::make_shared<const Evaluation>(evaluate(*prediction, *target, options));
            } catch (const Error& error) {
                // A prediction outside [0, 1] (e.g. logits) still has hard metrics:
                // retry without the metrics that need probabilities.
                if (error.kind() != Error::Kind::Input || !is_floating(prediction->type())) {
                    throw;
                }
                std::vector<Metric> hard;
                for (const Metric metric : gui_metrics()) {
                    if (!needs_probabilities(metric)) {
                        hard.push_back(metric);
                    }
                }
                options.metrics = hard;
                try {
                    evaluation = std::make_shared<const Evaluation>(evaluate(*prediction, *target, options));
                } catch (const Error&) {
                    throw error;
                }
            }
            result.dataset.prediction = prediction;
            result.dataset.target = target;
            result.dataset.prediction_path = job->prediction_path;
            result.dataset.target_path = job->target_path;
            result.evaluation = std::move(evaluation);
            result.ok = true;
        } catch (const Error& error) {
            result.cancelled = error.kind() == Error::Kind::Cancelled;
            result.text = describe(error);
            result.details = QString::fromStdString(error.what());
        } catch (const std::exception& error) {
            result.text = QStringLiteral("Unexpected error.");
            result.details = QString::fromStdString(error.what());
        }
        return result;
    };

    busy_ = true;
    emit busyChanged(true);
    emit progressChanged(-1.0);
    if (synchronous_) {
        finish(run());
        return;
    }
    watcher_ = std::make_unique<QFutureWatcher<Result>>();
    connect(watcher_.get(), &QFutureWatcher<Result>::finished, this, [this]() {
        if (watcher_ && busy_) {
            finish(watcher_->result());
        }
    });
    watcher_->setFuture(QtConcurrent::run(run));
}

void SessionPresenter::finish(Result result)
{
    busy_ = false;
    emit busyChanged(false);
    if (result.ok) {
        const bool fresh = result.new_dataset;
        if (fresh) {
            dataset_ = result.dataset;
        }
        evaluation_ = result.evaluation;
        evaluated_settings_ = result.settings;
        if (fresh) {
            const Shape s = shape();
            cursor_ = {s.d / 2, s.h / 2, s.w / 2};
            sample_ = 0;
            label_index_ = -1;
            const auto& all = labels();
            for (std::size_t i = 0; i < all.size(); ++i) {
                if (all[i] > 0) {
                    label_index_ = static_cast<int>(i);
                    break;
                }
            }
            if (label_index_ < 0 && !all.empty()) {
                label_index_ = 0;
            }
        }
        clampState();
        if (fresh) {
            emit datasetChanged();
        }
        emit evaluationChanged();
        emit cursorChanged();
    } else {
        if (settings_ != evaluated_settings_ && hasData()) {
            settings_ = evaluated_settings_; // keep the settings that match the numbers shown
            emit settingsChanged();
        }
        pending_reevaluate_ = false;
        if (result.cancelled) {
            emit cancelled();
        } else {
            emit errorOccurred(result.text, result.details);
        }
    }
    if (pending_reevaluate_) {
        pending_reevaluate_ = false;
        if (settings_ != evaluated_settings_) {
            reevaluate();
        }
    }
}

void SessionPresenter::clampState()
{
    if (!hasData()) {
        return;
    }
    const Shape s = shape();
    cursor_.d = std::clamp<std::int64_t>(cursor_.d, 0, s.d - 1);
    cursor_.h = std::clamp<std::int64_t>(cursor_.h, 0, s.h - 1);
    cursor_.w = std::clamp<std::int64_t>(cursor_.w, 0, s.w - 1);
    sample_ = std::clamp<std::int64_t>(sample_, 0, sampleCount() - 1);
    if (label_index_ >= static_cast<int>(labels().size())) {
        label_index_ = labels().empty() ? -1 : 0;
    }
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
    EvaluationSettings s = settings_;
    s.logits = logits;
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

void SessionPresenter::setLayers(const LayerSettings& layers)
{
    if (layers == layers_) {
        return;
    }
    layers_ = layers;
    emit layersChanged();
}

void SessionPresenter::setChartMetric(Metric metric)
{
    if (metric == chart_metric_) {
        return;
    }
    chart_metric_ = metric;
    emit chartMetricChanged();
}

std::optional<std::size_t> SessionPresenter::metricIndex(Metric metric) const
{
    if (!evaluation_) {
        return std::nullopt;
    }
    const auto& metrics = evaluation_->metrics;
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
    const auto index = metricIndex(metric);
    const MetricValues* values = sliceValues();
    return index && values && *index < values->size() ? (*values)[*index] : kNan;
}

double SessionPresenter::sampleValue(Metric metric) const
{
    const auto index = metricIndex(metric);
    const MetricValues* values = sampleValues();
    return index && values && *index < values->size() ? (*values)[*index] : kNan;
}

std::vector<double> SessionPresenter::sliceSeries(Metric metric) const
{
    std::vector<double> series;
    const auto index = metricIndex(metric);
    if (!index || sample_ < 0 || sample_ >= sampleCount()) {
        return series;
    }
    for (const MetricValues& values : evaluation_->samples[static_cast<std::size_t>(sample_)].slices) {
        series.push_back(*index < values.size() ? values[*index] : kNan);
    }
    return series;
}

std::optional<std::int64_t> SessionPresenter::worstSlice(Metric metric, int rank) const
{
    const std::vector<double> series = sliceSeries(metric);
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
    view.threshold = evaluated_settings_.threshold;
    view.logits = evaluated_settings_.logits;
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
    std::array<double, 3> position{};
    if (!dataset_.target) {
        return position;
    }
    const Geometry& g = dataset_.target->geometry();
    const std::array<double, 3> scaled{static_cast<double>(voxel.w) * g.spacing[0],
                                       static_cast<double>(voxel.h) * g.spacing[1],
                                       static_cast<double>(voxel.d) * g.spacing[2]};
    for (std::size_t row = 0; row < 3; ++row) {
        position[row] = g.origin[row];
        for (std::size_t col = 0; col < 3; ++col) {
            position[row] += g.direction[row * 3 + col] * scaled[col];
        }
    }
    return position;
}

} // namespace masklens::ui
