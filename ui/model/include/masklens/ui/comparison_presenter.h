// Several predictions against one target, without widgets. Entry 0 is the
// SessionPresenter's own prediction (its Evaluation, loaded and evaluated as
// before); further predictions are added with addPrediction() and each gets
// its own Evaluation, computed off the UI thread with the session's settings
// (threshold, logits, smoothing, axis, empty policy) and re-computed when
// they change. Sample, label, cursor (slice) and chart metric are the
// session's, so every view bound to either presenter stays linked.
//
// It also holds the comparison state the widgets show: the comparison layout
// (on/off, its orientation, the shared slice camera), which predictions the
// 3D view shows, the pair A/B of the difference mode and of the
// "differ most" navigation.
#pragma once

#include "masklens/engine/evaluate.h"
#include "masklens/engine/volume.h"
#include "masklens/ui/session_presenter.h"
#include "masklens/ui/slice_model.h"

#include <QObject>
#include <QString>
#include <QStringList>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace masklens::ui {

// The colour of prediction `index` in the 3D view, captions and chart.
Rgb comparison_colour(int index);

class ComparisonPresenter : public QObject {
    Q_OBJECT
public:
    explicit ComparisonPresenter(SessionPresenter* session, QObject* parent = nullptr);
    ~ComparisonPresenter() override;

    SessionPresenter* session() const noexcept { return session_; }

    // --- predictions -------------------------------------------------------------
    // Opens TARGET with the first prediction through the session, then adds the others.
    void openComparison(const QString& target_path, const QStringList& prediction_paths);
    // Reads and evaluates another prediction against the session's target.
    void addPrediction(const QString& path);
    // An in-memory prediction (tests, generated data).
    void addPredictionVolume(std::shared_ptr<const Volume> prediction, const QString& name);
    // Removes prediction `index` (>= 1; entry 0 is the session's).
    void removePrediction(int index);
    // Removes every added prediction.
    void clearPredictions();

    // Entries: 0 is the session's prediction (none without data).
    int count() const;
    QString name(int index) const;
    QString path(int index) const;
    const Volume* prediction(int index) const;
    std::shared_ptr<const Volume> predictionShared(int index) const;
    const Evaluation* evaluation(int index) const; // null while pending
    bool pending(int index) const;
    bool busy() const;
    // Blocks until every added prediction is evaluated (tests, screenshots).
    void waitForIdle();

    // Surface distances of entry `index` (hd95, assd, nsd, hd): entry 0 uses the
    // session's distance pass; every added prediction gets its own, run on
    // background_pool() after its evaluation with the same settings and the
    // session's NSD tolerance (a newer evaluation or tolerance drops a running one).
    DistanceState distanceState(int index) const;
    const Evaluation* distanceEvaluation(int index) const; // null unless Ready
    QString distanceError(int index) const;
    // A metric of entry `index` whose value is still being computed.
    bool pending(int index, Metric metric) const;
    // Blocks until every distance pass (the session's included) has delivered.
    void waitForDistances();

    // How entry `index` is read at a voxel (its pairing; the session's sample, label, threshold).
    PairView pairView(int index) const;
    // Each prediction's activation: entry 0 is the session's (setting it
    // changes the session's, which the others follow unless they have their
    // own); an added prediction may have its own (a logits model compared
    // with a probability model), and is re-evaluated under it.
    Activation activation(int index) const;
    void setActivation(int index, Activation activation);
    // The same for the decision (threshold or argmax).
    Decision decision(int index) const;
    void setDecision(int index, Decision decision);

    // --- numbers (straight from each entry's Evaluation) ----------------------------
    // The metrics every evaluated entry has, in entry 0's order (with the
    // distance metrics after iou while the session's distance pass is enabled).
    std::vector<Metric> metrics() const;
    double sliceValue(int index, Metric metric) const;  // the session's sample and current slice
    double sampleValue(int index, Metric metric) const; // the session's sample
    // The chart's series of entry `index` (the session's label when its chart is per label).
    std::vector<double> chartSeries(int index, Metric metric) const;
    // Entries holding the best value of `metric` (slice or sample), ties all; NaN never best.
    std::vector<int> bestEntries(Metric metric, bool slice) const;

    // --- A / B ---------------------------------------------------------------------
    int pairA() const noexcept { return pair_a_; }
    int pairB() const noexcept { return pair_b_; }
    // Choosing one side equal to the other swaps A and B.
    void setPair(int a, int b);
    // Slices ordered by |series_A - series_B| of the chart metric, largest first
    // (ties: lower slice first; slices where either is NaN are left out).
    std::vector<std::int64_t> differingSlices() const;
    // The rank-th slice of differingSlices() (0: where A and B differ most).
    std::optional<std::int64_t> differMostSlice(int rank = 0) const;
    // Moves the session's slice there: next == false starts at rank 0, true goes
    // to the next rank (wrapping). Returns the slice, if any.
    std::optional<std::int64_t> goToDifferMost(bool next);
    int differRank() const noexcept { return differ_rank_; }

    // Difference mode: the slice views colour voxels only A / only B / neither gets right.
    bool differenceMode() const noexcept { return difference_mode_; }
    void setDifferenceMode(bool on);
    // Difference mode is on and both A and B are evaluated.
    bool differenceActive() const;
    // The voxel counts of the current sample (A and B: pairA/pairB), once the
    // background count for exactly the current A, B, sample, label and
    // threshold has delivered (differenceCountsChanged); nullopt meanwhile.
    // Counted on background_pool() while difference mode is active.
    std::optional<DifferenceCounts> readyDifferenceCounts() const;
    // The same, always: the ready counts, else waits for the running count or
    // counts on the calling thread (tests).
    DifferenceCounts differenceCounts() const;

    // --- layout ----------------------------------------------------------------------
    bool comparisonLayout() const noexcept { return layout_; }
    void setComparisonLayout(bool on);
    ViewAxis comparisonAxis() const noexcept { return axis_; }
    void setComparisonAxis(ViewAxis axis);
    const SliceCamera& camera() const noexcept { return camera_; }
    void setCamera(const SliceCamera& camera);

    // Which predictions the 3D view shows (default: entry 0 only).
    bool shownIn3d(int index) const;
    void setShownIn3d(int index, bool shown);
    std::vector<int> shownIn3dEntries() const;

signals:
    void entriesChanged();    // an entry was added, removed, evaluated or re-evaluated
    void pairChanged();       // A or B
    void differenceChanged(); // difference mode on/off
    void layoutChanged();     // comparison layout on/off or its axis
    void cameraChanged();     // the shared slice camera
    void shown3dChanged();
    void distancesChanged();        // an entry's distance state or values changed
    void differenceCountsChanged(); // readyDifferenceCounts() delivered or cleared
    void errorOccurred(const QString& text, const QString& details);

private:
    struct Extra;
    struct Result;
    struct CountsKey;
    struct Entry;
    // What entry `index` shows, read from the session for entry 0 and from
    // its Extra otherwise: the one place the first prediction is told apart
    // for reading. nullopt when there is no such entry.
    std::optional<Entry> entry(int index) const;
    std::optional<CountsKey> currentCountsKey() const;
    void requestDifferenceCounts();
    void onSessionDistancesChanged();
    void resetExtraDistances(Extra& extra);
    void launchExtraDistances(Extra& extra);
    void onDatasetChanged();
    void onEvaluationChanged();
    // Adds a new entry and starts its evaluation and distance pass.
    void appendExtra(std::unique_ptr<Extra> extra);
    void evaluateExtra(Extra& extra);
    void finishExtra(std::uint64_t id, Result result);
    Extra* findExtra(std::uint64_t id);
    std::vector<std::uint64_t> extraIds() const;
    const Evaluation* sourceFor(int index, Metric metric) const;
    const SampleResult* currentSample(int index, Metric metric) const;
    void clampPair();
    QString uniqueName(const QString& wanted) const;

    SessionPresenter* session_;
    std::vector<std::unique_ptr<Extra>> extras_;
    EvaluationSettings settingsOf(const Extra& extra) const;
    // Re-evaluates an entry under its (new) rule, or restores the previous
    // one and reports the engine's error when the prediction cannot take it.
    void applyRule(Extra& extra, std::optional<Activation> activation_before,
                   std::optional<Decision> decision_before);
    std::uint64_t next_id_ = 1;
    QStringList queued_; // paths to add once the session's pair is open
    bool expect_new_pair_ = false;
    const Volume* seen_target_ = nullptr;
    int pair_a_ = 0;
    int pair_b_ = 1;
    int differ_rank_ = 0;
    bool difference_mode_ = false;
    bool layout_ = false;
    ViewAxis axis_ = ViewAxis::Axial;
    SliceCamera camera_;
    bool primary_shown_3d_ = true;
    // Difference counts: the ready ones (with what they count) and the running job.
    std::unique_ptr<CountsKey> counts_key_;
    DifferenceCounts counts_;
    std::unique_ptr<CountsKey> counts_running_;
    LatestJob<DifferenceCounts> counts_job_;
};

} // namespace masklens::ui
