// The UI state of one open prediction/target pair, without widgets:
// the loaded volumes, the engine's Evaluation, the cursor (current voxel and
// therefore current slice), sample, label, threshold, layer settings and the
// chart metric. Widgets and scenes bind to its signals; tests drive it directly.
//
// Loading and evaluating run on a worker thread (QtConcurrent) unless
// setSynchronous(true); a failure emits errorOccurred and keeps the previous
// state; Error(Cancelled) only emits cancelled().
#pragma once

#include "masklens/engine/evaluate.h"
#include "masklens/engine/volume.h"
#include "masklens/service/pair_evaluator.h"
#include "masklens/ui/distance_pass.h"
#include "masklens/ui/image_underlay.h"
#include "masklens/ui/label_colours.h"
#include "masklens/ui/latest_job.h"
#include "masklens/ui/slice_model.h"

#include <QObject>
#include <QString>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

class QThreadPool;

namespace masklens::ui {

struct Dataset {
    std::shared_ptr<const Volume> prediction;
    std::shared_ptr<const Volume> target;
    // Evaluates this pair (resident on the GPU across re-evaluations).
    std::shared_ptr<service::PairEvaluator> evaluator;
    QString prediction_path;
    QString target_path;
};

// An image read for the underlay (session_image.cpp): the volume and its
// 1st / 99th percentiles, or why it cannot be used.
struct ImageLoad {
    std::shared_ptr<const Volume> image;
    std::array<double, 2> percentiles{0.0, 1.0};
    QString path;
    QString error;
};

// The settings that change the engine's numbers (a change re-evaluates).
struct EvaluationSettings {
    double threshold = 0.5; // Decision::Threshold
    Activation activation = Activation::None;
    Decision decision = Decision::Threshold;
    double smooth = 1e-6; // dice/iou smoothing (numerator and denominator)
    SliceAxis axis = SliceAxis::Default;
    EmptyPolicy empty = EmptyPolicy::Nan;
    bool operator==(const EvaluationSettings& other) const noexcept = default;
    DecisionRule rule() const noexcept { return {activation, decision, threshold}; }
};

// The values of one sample shown for the chosen label (matched by value;
// none: the whole sample's), of the whole sample or of one slice; null when
// the sample has no such label or slice.
const MetricValues* shown_values(const SampleResult& sample, std::optional<std::int64_t> label,
                                 std::optional<std::int64_t> slice);

// The metrics the app evaluates: every metric computed from the pass's sums
// (surface distances are left out: they cost a distance transform per change).
std::vector<Metric> gui_metrics();

// The engine options for `settings` (threshold, logits, smoothing, empty
// policy, axis) computing `metrics`.
StatisticsOptions statistics_options(const EvaluationSettings& settings, std::vector<Metric> metrics);

// The app's compute device, chosen once per process from MASKLENS_DEVICE
// by the evaluation service's policy (service::resolve_device_request).
const service::ComputeDevice& compute_device();

class SessionPresenter : public QObject {
    Q_OBJECT
public:
    explicit SessionPresenter(QObject* parent = nullptr);
    ~SessionPresenter() override;

    // --- loading -----------------------------------------------------------
    // Reads both files and evaluates them (off the UI thread).
    void openFiles(const QString& prediction_path, const QString& target_path);
    // Replaces one side of the pair, keeping the other.
    void openPrediction(const QString& path);
    void openTarget(const QString& path);
    // Evaluates an in-memory pair (tests, generated data).
    void setVolumes(std::shared_ptr<const Volume> prediction, std::shared_ptr<const Volume> target,
                    const QString& prediction_path = {}, const QString& target_path = {});
    void cancel();
    bool busy() const noexcept { return busy_; }
    void setSynchronous(bool synchronous) { synchronous_ = synchronous; }
    bool synchronous() const noexcept { return synchronous_; }
    // Blocks until no job is running (tests, shutdown).
    void waitForIdle();

    // Opening files shows the volumes as soon as both are read and checked
    // (engine check_pair): datasetChanged with a placeholder evaluation that has
    // the shape, pairing and slicing axis but no values (every metric pending,
    // isPending() true), then datasetChanged again with the real numbers. A
    // failure after the preview restores the previous dataset, evaluation,
    // cursor, sample, label and distances (and emits datasetChanged for them).
    bool previewing() const noexcept { return previewing_; }
    // True while the signals of such a restore are emitted.
    bool restoring() const noexcept { return restoring_; }
    // Off: loads show nothing until evaluated (the comparison turns it off
    // while added predictions exist, which a new target must not meet half-done).
    void setPreviewAllowed(bool allowed) { preview_allowed_ = allowed; }
    bool previewAllowed() const noexcept { return preview_allowed_; }
    // On (the window turns it on): a preview's evaluation waits until
    // previewShown(), cancel(), waitForIdle() or `limit`, so that the first
    // frame of the new volumes does not share the cores with the pass (on 2
    // cores that drew a 512^3 pair's first slice 150 ms later; the numbers
    // come no later, docs/benchmarks.md). Off: the evaluation starts at once.
    void setPreviewFirst(bool first, std::chrono::milliseconds limit = std::chrono::milliseconds(300))
    {
        preview_first_ = first;
        preview_wait_ = limit;
    }
    bool previewFirst() const noexcept { return preview_first_; }
    // The views show the preview: its held evaluation starts now.
    void previewShown();

    // --- state ---------------------------------------------------------------
    bool hasData() const noexcept { return evaluation_ != nullptr; }
    const Dataset& dataset() const noexcept { return dataset_; }
    const Volume* prediction() const noexcept { return dataset_.prediction.get(); }
    const Volume* target() const noexcept { return dataset_.target.get(); }
    const Evaluation* evaluation() const noexcept { return evaluation_.get(); }
    Shape shape() const;
    bool is3d() const;

    const EvaluationSettings& settings() const noexcept { return settings_; }
    void setThreshold(double threshold);
    void setLogits(bool logits); // activation sigmoid or none
    // Softmax chooses argmax, the others the threshold (setDecision changes it).
    void setActivation(Activation activation);
    void setDecision(Decision decision);
    void setSmooth(double smooth);
    void setSliceAxis(SliceAxis axis);
    void setEmptyPolicy(EmptyPolicy policy);
    void setSettings(const EvaluationSettings& settings);

    std::int64_t sampleCount() const;
    std::int64_t sample() const noexcept { return sample_; }
    void setSample(std::int64_t sample);

    const Voxel& cursor() const noexcept { return cursor_; }
    void setCursor(const Voxel& voxel);
    // Moves the cursor along a view's axis by `delta` slices (clamped).
    void stepSlice(ViewAxis axis, std::int64_t delta);

    // The engine's slicing axis (resolved) and the cursor's index along it.
    ViewAxis metricAxis() const;
    std::int64_t sliceCount() const;
    std::int64_t currentSlice() const;
    void setCurrentSlice(std::int64_t slice);

    // Labels reported by the engine; the chosen one drives the overlays.
    const std::vector<std::int64_t>& labels() const;
    int labelIndex() const noexcept { return label_index_; }
    void setLabelIndex(int index);
    std::optional<std::int64_t> currentLabel() const;

    // Label names and colours (--labels-file; label_colours.h): the label
    // chooser, the Labels display mode and (later) the 3D view read them.
    const LabelColours& labelColours() const noexcept { return label_colours_; }
    void setLabelColours(LabelColours colours);
    // One label's visibility and opacity (0..1, clamped) in the "All labels"
    // display; a label the table lacks gets an entry with its default style.
    void setLabelDisplay(std::int64_t value, bool visible, double opacity);
    // The style of every label the engine reports (label_style: file or defaults).
    std::vector<LabelStyle> labelStyles() const;

    const LayerSettings& layers() const noexcept { return layers_; }
    void setLayers(const LayerSettings& layers);

    Metric chartMetric() const noexcept { return chart_metric_; }
    void setChartMetric(Metric metric);
    // The chart (and worst-slice ranking) follows the current label instead of
    // the whole sample (label maps, one-hot channels); emits chartMetricChanged.
    bool chartPerLabel() const noexcept { return chart_per_label_; }
    // Why the probability metrics (bce, focal_loss, ce) are missing: the
    // prediction left [0, 1] or holds NaN under activation none (the CLI's
    // error, word for word); empty when they are there.
    const QString& probabilityWarning() const noexcept { return probability_warning_; }
    // The label the numbers follow: the chosen one while chartPerLabel().
    std::optional<std::int64_t> followedLabel() const
    {
        return chart_per_label_ ? currentLabel() : std::nullopt;
    }
    void setChartPerLabel(bool per_label);

    // --- surface distances -----------------------------------------------------
    // After each evaluation the distance metrics are computed by a second job
    // (masklens::evaluate with gui_distance_metrics(), same settings) on a
    // background pool, so threshold changes show the fast metrics at once; a
    // newer evaluation supersedes a running distance job (its result is dropped).
    bool distancesEnabled() const noexcept { return distances_enabled_; }
    void setDistancesEnabled(bool enabled);
    double nsdTolerance() const noexcept { return nsd_tolerance_; } // mm
    void setNsdTolerance(double millimetres);
    DistanceState distanceState() const noexcept { return distances_.state(); }
    const QString& distanceError() const noexcept { return distances_.values().error; }
    const Evaluation* distanceEvaluation() const noexcept { return distances_.values().evaluation.get(); }
    // Blocks until no distance job is running (tests, shutdown).
    void waitForDistances();
    // The loss panel's rows: the evaluation's metrics, with the distance metrics
    // (when enabled) after iou.
    std::vector<Metric> shownMetrics() const;
    // A distance metric whose value is still being computed.
    bool isPending(Metric metric) const;

    // --- numbers (all straight from the Evaluation) ---------------------------
    // Index into evaluation()->metrics (distance metrics: into distanceEvaluation()->metrics).
    std::optional<std::size_t> metricIndex(Metric metric) const;
    const MetricValues* sliceValues() const;  // current sample, current slice
    const MetricValues* sampleValues() const; // current sample
    double sliceValue(Metric metric) const;   // NaN when unavailable or pending
    double sampleValue(Metric metric) const;
    std::vector<double> sliceSeries(Metric metric) const; // current sample, every slice
    // Any sample's value, and a label's value (by label value) in a sample (the sample and
    // label tables; distance metrics from the distance pass, NaN while pending).
    double sampleValueOf(std::int64_t sample, Metric metric) const;
    double labelValueOf(std::int64_t sample, std::int64_t label, Metric metric) const;
    // The current label's values along the slices (empty without a label).
    std::vector<double> labelSliceSeries(Metric metric) const;
    // What the chart shows: labelSliceSeries when chartPerLabel() and a label is chosen, else sliceSeries.
    std::vector<double> chartSeries(Metric metric) const;
    // The slice with the rank-th worst value of `metric` in chartSeries (0: worst), NaN skipped.
    std::optional<std::int64_t> worstSlice(Metric metric, int rank = 0) const;

    // --- image underlay (session_image.cpp) -------------------------------------
    // Reads an image (any format the masks may have) off the UI thread and
    // shows it under the masks: check_image against the target (now, or when
    // a pair opens; an image that does not fit a newly opened pair is closed),
    // window / level from default_preset. Failures emit errorOccurred.
    void openImage(const QString& path);
    // The same for an image in memory (tests), checked at once.
    void setImage(std::shared_ptr<const Volume> image, const QString& path = {});
    void closeImage();
    // An image is being read.
    bool imageLoading() const noexcept { return image_job_.running(); }
    const Volume* image() const noexcept { return image_.get(); }
    const QString& imagePath() const noexcept { return image_path_; }
    // 1st and 99th percentiles of the image (value_percentiles).
    const std::array<double, 2>& imagePercentiles() const noexcept { return image_percentiles_; }
    // Sets layers().window / level (window at least 1e-6).
    void setWindowLevel(double window, double level);
    void applyWindowPreset(WindowPreset preset);
    // The image's value at a voxel of the current sample (NaN without an image).
    double imageValue(const Voxel& voxel) const;

    // --- lesions (the Lesions display mode) ------------------------------------
    // What the views paint in DisplayMode::Lesions (lesion_overlay.h), set
    // by the Lesions tab when its pass delivers, the sample or label changes
    // or a lesion is selected; nullptr: none (the views draw the errors).
    const LesionOverlay* lesionOverlay() const noexcept { return lesion_overlay_.get(); }
    std::shared_ptr<const LesionOverlay> sharedLesionOverlay() const { return lesion_overlay_; }
    void setLesionOverlay(std::shared_ptr<const LesionOverlay> overlay);

    PairView pairView() const;
    VoxelClass classifyVoxel(const Voxel& voxel) const;
    // Physical position (mm) of a voxel centre: origin + direction * (index * spacing).
    std::array<double, 3> physicalPosition(const Voxel& voxel) const;

signals:
    void datasetChanged();    // new volumes (and evaluation)
    void evaluationChanged(); // new numbers (threshold, logits, axis...)
    void cursorChanged();
    void sampleChanged();
    void labelChanged();
    void layersChanged();
    void chartMetricChanged();
    void settingsChanged();
    void busyChanged(bool busy);
    void progressChanged(double fraction); // < 0: indeterminate
    void errorOccurred(const QString& text, const QString& details);
    void cancelled();
    void distancesChanged(); // distance state or values changed
    void imageChanged();     // an image opened or closed
    void labelColoursChanged();
    void lesionOverlayChanged();

private:
    // The evaluation holding `metric` (distance metrics: the distance pass).
    const Evaluation* sourceOf(Metric metric) const;
    void resetDistances();
    void requestDistances();
    void launchDistances();
    struct Job;
    struct Result;
    struct Snapshot;
    void showPreview(std::uint64_t job, Dataset dataset, std::shared_ptr<const Evaluation> placeholder,
                     EvaluationSettings settings);
    void restoreSnapshot();
    void resetViewState();
    void start(std::shared_ptr<Job> job);
    void finish(Result result);
    void reevaluate();
    void clampState();
    void acceptImage(ImageLoad load);
    // Closes an image that does not fit the (new) target; true if it fits.
    bool keepImageIfFits();

    Dataset dataset_;
    std::shared_ptr<const Evaluation> evaluation_;
    EvaluationSettings settings_;
    EvaluationSettings evaluated_settings_;
    LayerSettings layers_;
    LabelColours label_colours_;
    Voxel cursor_;
    std::int64_t sample_ = 0;
    int label_index_ = -1;
    Metric chart_metric_ = Metric::Dice;
    // Follow the chosen label: the panel, the chart, the worst slice and the
    // sample table show its values (the views always show it).
    bool chart_per_label_ = true;
    QString probability_warning_;

    bool synchronous_ = false;
    bool busy_ = false;
    bool pending_reevaluate_ = false;
    LatestJob<Result> evaluation_job_;
    std::uint64_t job_id_ = 0; // of the running job (previews of older ones are dropped)
    bool previewing_ = false;
    bool restoring_ = false;
    bool preview_allowed_ = true;
    bool preview_first_ = false;
    std::chrono::milliseconds preview_wait_{300};
    struct PreviewGate;
    std::shared_ptr<PreviewGate> preview_gate_; // the running job's, while it may wait
    std::unique_ptr<Snapshot> snapshot_;        // what a failed previewed load restores

    std::shared_ptr<const Volume> image_;
    QString image_path_;
    std::array<double, 2> image_percentiles_{0.0, 1.0};
    LatestJob<ImageLoad> image_job_;

    std::shared_ptr<const LesionOverlay> lesion_overlay_;

    bool distances_enabled_ = true;
    double nsd_tolerance_ = 1.0;
    DistancePass distances_;
};

// The pool for background work that must not delay evaluations (distance
// passes, 3D surfaces): separate from QThreadPool::globalInstance().
QThreadPool* background_pool();

} // namespace masklens::ui
