// The MaskLens main window: 2x2 views (axial, coronal, sagittal, 3D; one
// slice view for 2D data), the controls, loss panel, chart and tables on the
// right, a status bar with hover readout, progress and Cancel, and the File
// menu (open, recent, export CSV, screenshots). All state is in the presenter.
// Implemented by job across main_window.cpp and main_window_*.cpp (side
// panel, status bar, menus, files, comparison layout, export).
#pragma once

#include "masklens/ui/session_presenter.h"

#include <QMainWindow>

#include <functional>

class QCheckBox;
class QComboBox;
class QFrame;
class QDockWidget;
class QDoubleSpinBox;
class QLabel;
class QMenu;
class QProgressBar;
class QPushButton;
class QSlider;
class QStackedWidget;
class QTabWidget;
class QTimer;

namespace masklens::ui {

class ComparisonPanel;
class ComparisonPresenter;
class LabelTable;
class LossPanel;
class ResultsPanel;
class SampleTable;
class SliceChart;
class SliceView;
class SurfaceControls;
class SurfaceView;

// Shows an error (short text, details). The default opens a QMessageBox
// (objectName "errorDialog", application modal, non-blocking).
using ErrorReporter = std::function<void(const QString& text, const QString& details)>;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    SessionPresenter* presenter() const { return presenter_; }
    ComparisonPresenter* comparison() const { return comparison_; }
    ComparisonPanel* comparisonPanel() const { return comparison_panel_; }
    // The comparison layout's slice views (one per prediction, then the A/B
    // difference view while difference mode is active) and their captions.
    std::vector<SliceView*> comparisonViews() const { return comparison_views_; }
    QLabel* comparisonCaption(int index) const;
    // The comparison layout is what the view area shows now.
    bool comparisonLayoutShown() const;
    SliceView* sliceView(ViewAxis axis) const;
    SurfaceView* surfaceView() const { return surface_view_; }
    LossPanel* lossPanel() const { return loss_panel_; }
    SliceChart* chart() const { return chart_; }
    SampleTable* sampleTable() const { return sample_table_; }
    LabelTable* labelTable() const { return label_table_; }
    QSlider* thresholdSlider() const { return threshold_slider_; }
    // The threshold typed (bound to the slider; three decimals).
    QDoubleSpinBox* thresholdSpin() const { return threshold_spin_; }
    QCheckBox* distanceColourCheck() const { return distance_colour_check_; }
    SurfaceControls* surfaceControls() const { return surface_controls_; }
    // Moves to the sample `delta` away (clamped; View > Next / Previous Sample).
    void stepSample(int delta);
    // No evaluation, distance pass or surface build is running (screenshots, tests).
    bool isSettled() const;

    void setErrorReporter(ErrorReporter reporter) { reporter_ = std::move(reporter); }
    void showError(const QString& text, const QString& details);

    void openFiles(const QString& prediction, const QString& target);
    // One file given ("Open with MaskLens"): asks for its target in a file
    // dialog, then opens the pair; cancelled: nothing is opened.
    void openAskingTarget(const QString& prediction);
    // Opens TARGET with every prediction (the first through the session), as
    // `masklens --target T P1 P2 ...`.
    void openComparison(const QString& target, const QStringList& predictions);
    // Adds a prediction to compare against the open target.
    void addPrediction(const QString& path);
    // Shows the per-case table of a folder evaluation (masklens-cli
    // evaluate-folder JSON) in the "Cases" dock; activating a case opens its
    // pair. A malformed file is reported and changes nothing. Returns success.
    bool openResults(const QString& path);
    // The results dock and panel (null until results were opened).
    ResultsPanel* resultsPanel() const { return results_panel_; }
    QDockWidget* resultsDock() const { return results_dock_; }
    // Writes the per-sample/per-slice CSV (the CLI's format). Returns false and reports on failure.
    bool exportCsv(const QString& path);
    // The whole window (or one view) as an image; save as PNG.
    QImage windowImage();
    bool saveScreenshot(const QString& path);

    // Shows only `view` (or all views again when it is already alone).
    void toggleMaximised(QWidget* view);
    bool isMaximised() const noexcept { return maximised_ != nullptr; }

    // Which folder a file dialog starts in: the last one files were opened
    // from, or saved to (remembered across runs).
    enum class Folder { Open, Export };
    QString lastFolder(Folder folder) const; // empty when none (or it is gone)
    void rememberFolder(Folder folder, const QString& file);
    // What the app remembers across runs (main_window_settings.cpp): written
    // when the window closes, read when it is built.
    void saveSettings() const;
    void restoreSettings();

protected:
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    void closeEvent(QCloseEvent* event) override;

private:
    void buildMenus();
    QWidget* buildSidePanel();
    void buildStatusBar();
    void syncControls();
    void onDatasetChanged();
    void updateViewLayout();
    void updateLabelChooser();
    void updateHover(const Voxel& voxel);
    // The readout again for what is under the mouse now (after steps, sample or image changes).
    void refreshHover();
    // "Opening case " (the status message the results browser shows while a case loads).
    QString openingCasePrefix() const;
    void applyLayerControls();
    void addRecent(const QString& prediction, const QString& target);
    // `name` in the last folder of its kind (or `name` alone when none).
    QString inLastFolder(Folder folder, const QString& name) const;
    void rebuildRecentMenu();
    void jumpToWorst(int rank);
    void rebuildComparisonViews();
    void updateComparisonLayout();

    SessionPresenter* presenter_;
    ComparisonPresenter* comparison_;
    ErrorReporter reporter_;
    QStackedWidget* view_stack_ = nullptr;
    QWidget* comparison_host_ = nullptr;
    std::vector<QWidget*> comparison_tiles_;
    std::vector<SliceView*> comparison_views_;
    std::vector<QLabel*> comparison_captions_;
    ComparisonPanel* comparison_panel_ = nullptr;
    int compared_before_ = 0;
    bool layout_was_on_ = false;
    SliceView* axial_ = nullptr;
    SliceView* coronal_ = nullptr;
    SliceView* sagittal_ = nullptr;
    SurfaceView* surface_view_ = nullptr;
    QWidget* maximised_ = nullptr;
    LossPanel* loss_panel_ = nullptr;
    SliceChart* chart_ = nullptr;
    SampleTable* sample_table_ = nullptr;
    LabelTable* label_table_ = nullptr;
    QTabWidget* tables_ = nullptr;
    QSlider* threshold_slider_ = nullptr;
    QDoubleSpinBox* threshold_spin_ = nullptr;
    QComboBox* activation_combo_ = nullptr;
    QFrame* probability_warning_ = nullptr; // shown while the probability metrics are refused
    QLabel* probability_warning_text_ = nullptr;
    QComboBox* decision_combo_ = nullptr;
    QComboBox* smooth_combo_ = nullptr;
    QComboBox* axis_combo_ = nullptr;
    QComboBox* empty_combo_ = nullptr;
    QComboBox* mode_combo_ = nullptr;
    QComboBox* target_style_ = nullptr;
    QSlider* target_opacity_ = nullptr;
    QComboBox* prediction_style_ = nullptr;
    QSlider* prediction_opacity_ = nullptr;
    QComboBox* label_combo_ = nullptr;
    QComboBox* metric_combo_ = nullptr;
    QCheckBox* distance_colour_check_ = nullptr; // surface_controls_'s
    SurfaceControls* surface_controls_ = nullptr;
    QLabel* hover_label_ = nullptr;
    QLabel* file_label_ = nullptr;
    QLabel* device_label_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QTimer* progress_timer_ = nullptr;
    double progress_fraction_ = -1;
    QPushButton* cancel_button_ = nullptr;
    QMenu* recent_menu_ = nullptr;
    int worst_rank_ = 0;
    QDockWidget* results_dock_ = nullptr;
    ResultsPanel* results_panel_ = nullptr;
    // The image of the case being opened from the results browser, shown
    // once that case's pair is (the image is checked against its target).
    QString pending_case_image_;
    QString pending_case_prediction_;
};

// Where the bundled samples are: $MASKLENS_RESOURCES, next to the executable
// (../resources, ../share/masklens/resources), or the source tree.
QString resource_dir();

} // namespace masklens::ui
