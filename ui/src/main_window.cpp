#include "masklens/ui/main_window.h"

#include "masklens/engine/error.h"
#include "masklens/engine/report.h"
#include "masklens/ui/comparison_presenter.h"
#include "masklens/ui/panels.h"
#include "masklens/ui/results_panel.h"
#include "masklens/ui/views.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QFrame>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QSettings>
#include <QSignalBlocker>
#include <QSlider>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>
#include <QVBoxLayout>

#include <cmath>
#include <sstream>

namespace masklens::ui {

namespace {

// A PNG written to a temporary file beside `path` and renamed over it only when
// complete (QSaveFile), so a failed or interrupted save never leaves half a file.
bool save_png_atomically(const QImage& image, const QString& path)
{
    QSaveFile file(path);
    return file.open(QIODevice::WriteOnly) && image.save(&file, "PNG") && file.commit();
}

const QString kFileFilter = QStringLiteral(
    "Masks (*.npy *.npz *.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd *.png *.tif *.tiff);;All files (*)");
constexpr int kMaxRecent = 8;

QPixmap colour_bar(int width, int height)
{
    QImage image(width, height, QImage::Format_RGB32);
    for (int x = 0; x < width; ++x) {
        const Rgb c = probability_colour(static_cast<double>(x) / std::max(1, width - 1));
        for (int y = 0; y < height; ++y) {
            image.setPixel(x, y, qRgb(c.r, c.g, c.b));
        }
    }
    return QPixmap::fromImage(image);
}

bool looks_like_target(const QString& path)
{
    const QString name = QFileInfo(path).fileName().toLower();
    for (const char* hint : {"target", "label", "gt", "truth", "mask", "seg"}) {
        if (name.contains(QLatin1String(hint)) && !name.contains(QLatin1String("pred"))) {
            return true;
        }
    }
    return false;
}

} // namespace

QString resource_dir()
{
    const QByteArray env = qgetenv("MASKLENS_RESOURCES");
    if (!env.isEmpty()) {
        return QString::fromLocal8Bit(env);
    }
    const QDir exe(QCoreApplication::applicationDirPath());
    for (const QString& relative :
         {QStringLiteral("../resources"), QStringLiteral("../share/masklens/resources"),
          QStringLiteral("../../resources"), QStringLiteral("../../../resources")}) {
        const QString candidate = exe.absoluteFilePath(relative);
        if (QFileInfo::exists(candidate + QStringLiteral("/samples"))) {
            return QDir::cleanPath(candidate);
        }
    }
#ifdef MASKLENS_RESOURCE_DIR
    return QStringLiteral(MASKLENS_RESOURCE_DIR);
#else
    return exe.absoluteFilePath(QStringLiteral("../resources"));
#endif
}

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), presenter_(new SessionPresenter(this)),
      comparison_(new ComparisonPresenter(presenter_, this))
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(QStringLiteral("MaskLens"));
    setAcceptDrops(true);
    reporter_ = [this](const QString& text, const QString& details) {
        auto* box =
            new QMessageBox(QMessageBox::Critical, QStringLiteral("MaskLens"), text, QMessageBox::Ok, this);
        box->setObjectName(QStringLiteral("errorDialog"));
        box->setInformativeText(details.section(QLatin1Char('\n'), 0, 0).left(200));
        box->setDetailedText(details);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->setWindowModality(Qt::ApplicationModal);
        box->show();
    };

    axial_ = new SliceView(presenter_, ViewAxis::Axial);
    axial_->setObjectName(QStringLiteral("axialView"));
    coronal_ = new SliceView(presenter_, ViewAxis::Coronal);
    coronal_->setObjectName(QStringLiteral("coronalView"));
    sagittal_ = new SliceView(presenter_, ViewAxis::Sagittal);
    sagittal_->setObjectName(QStringLiteral("sagittalView"));
    surface_view_ = new SurfaceView(presenter_);
    surface_view_->setObjectName(QStringLiteral("surfaceView"));

    auto* grid_host = new QWidget;
    auto* grid = new QGridLayout(grid_host);
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setSpacing(2);
    grid->addWidget(axial_, 0, 0);
    grid->addWidget(coronal_, 0, 1);
    grid->addWidget(sagittal_, 1, 0);
    grid->addWidget(surface_view_, 1, 1);
    for (SliceView* view : {axial_, coronal_, sagittal_}) {
        connect(view, &SliceView::maximiseRequested, this, [this, view]() { toggleMaximised(view); });
        connect(view, &SliceView::hovered, this, &MainWindow::updateHover);
        connect(view, &SliceView::hoverLeft, this, [this]() { hover_label_->clear(); });
    }
    connect(surface_view_, &SurfaceView::maximiseRequested, this,
            [this]() { toggleMaximised(surface_view_); });

    for (SliceView* view : {axial_, coronal_, sagittal_}) {
        view->bindComparison(comparison_, SliceView::kSession); // difference mode
    }
    surface_view_->bindComparison(comparison_);

    // The comparison layout: one linked slice view per prediction, side by side.
    comparison_host_ = new QWidget;
    comparison_host_->setObjectName(QStringLiteral("comparisonHost"));
    auto* row = new QHBoxLayout(comparison_host_);
    row->setContentsMargins(0, 0, 0, 0);
    row->setSpacing(2);
    view_stack_ = new QStackedWidget;
    view_stack_->addWidget(grid_host);
    view_stack_->addWidget(comparison_host_);
    connect(comparison_, &ComparisonPresenter::entriesChanged, this, [this]() {
        const int count = comparison_->count();
        if (count >= 2 && compared_before_ < 2) {
            // The first added prediction: show the comparison.
            tables_->setCurrentWidget(comparison_panel_);
            comparison_->setComparisonLayout(true);
        }
        compared_before_ = count;
        rebuildComparisonViews();
    });
    connect(comparison_, &ComparisonPresenter::differenceChanged, this, &MainWindow::rebuildComparisonViews);
    connect(comparison_, &ComparisonPresenter::pairChanged, this, &MainWindow::rebuildComparisonViews);
    connect(comparison_, &ComparisonPresenter::layoutChanged, this, &MainWindow::updateComparisonLayout);
    connect(comparison_, &ComparisonPresenter::errorOccurred, this, &MainWindow::showError);

    auto* splitter = new QSplitter(Qt::Horizontal);
    splitter->addWidget(view_stack_);
    splitter->addWidget(buildSidePanel());
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({1000, 420});
    setCentralWidget(splitter);

    hover_label_ = new QLabel;
    hover_label_->setObjectName(QStringLiteral("hoverLabel"));
    file_label_ = new QLabel;
    progress_ = new QProgressBar;
    progress_->setObjectName(QStringLiteral("progressBar"));
    progress_->setMaximumWidth(180);
    progress_->setVisible(false);
    cancel_button_ = new QPushButton(tr("Cancel"));
    cancel_button_->setObjectName(QStringLiteral("cancelButton"));
    cancel_button_->setVisible(false);
    statusBar()->addWidget(hover_label_, 1);
    statusBar()->addPermanentWidget(file_label_);
    // Where the numbers are computed (MASKLENS_DEVICE, see compute_device()).
    device_label_ = new QLabel(QString::fromStdString(compute_device().label));
    device_label_->setObjectName(QStringLiteral("deviceLabel"));
    device_label_->setToolTip(QString::fromStdString(compute_device().summary));
    statusBar()->addPermanentWidget(device_label_);
    statusBar()->addPermanentWidget(progress_);
    statusBar()->addPermanentWidget(cancel_button_);
    connect(cancel_button_, &QPushButton::clicked, presenter_, &SessionPresenter::cancel);

    connect(presenter_, &SessionPresenter::busyChanged, this, [this](bool busy) {
        progress_->setVisible(busy);
        cancel_button_->setVisible(busy);
    });
    // Progress is shown at most every 250 ms and never as a busy animation:
    // under software OpenGL every repaint of the window recomposes the views,
    // which took CPU from the very load it reports on.
    progress_->setRange(0, 100);
    progress_timer_ = new QTimer(this);
    progress_timer_->setSingleShot(true);
    progress_timer_->setInterval(250);
    connect(progress_timer_, &QTimer::timeout, this, [this]() {
        if (progress_fraction_ < 0) {
            progress_->setFormat(tr("working…"));
            progress_->setValue(0);
        } else {
            progress_->setFormat(QStringLiteral("%p%"));
            progress_->setValue(static_cast<int>(progress_fraction_ * 100));
        }
    });
    connect(presenter_, &SessionPresenter::progressChanged, this, [this](double fraction) {
        progress_fraction_ = fraction;
        if (!progress_timer_->isActive()) {
            progress_timer_->start();
        }
    });
    connect(presenter_, &SessionPresenter::errorOccurred, this, &MainWindow::showError);
    connect(presenter_, &SessionPresenter::cancelled, this,
            [this]() { statusBar()->showMessage(tr("Cancelled; the previous data is kept."), 5000); });
    connect(presenter_, &SessionPresenter::datasetChanged, this, &MainWindow::onDatasetChanged);
    connect(presenter_, &SessionPresenter::evaluationChanged, this, &MainWindow::updateLabelChooser);
    connect(presenter_, &SessionPresenter::settingsChanged, this, &MainWindow::syncControls);
    connect(presenter_, &SessionPresenter::labelChanged, this, [this]() {
        const QSignalBlocker block(label_combo_);
        label_combo_->setCurrentIndex(presenter_->labelIndex());
    });

    buildMenus();
    syncControls();
    updateViewLayout();
    resize(1400, 900);
}

MainWindow::~MainWindow()
{
    presenter_->cancel();
    presenter_->waitForIdle();
}

bool MainWindow::isSettled() const
{
    return !presenter_->busy() && presenter_->distanceState() != DistanceState::Pending &&
           !surface_view_->building() && !comparison_->busy();
}

QLabel* MainWindow::comparisonCaption(int index) const
{
    if (index < 0 || index >= static_cast<int>(comparison_captions_.size())) {
        return nullptr;
    }
    return comparison_captions_[static_cast<std::size_t>(index)];
}

bool MainWindow::comparisonLayoutShown() const
{
    return view_stack_->currentWidget() == comparison_host_;
}

void MainWindow::openComparison(const QString& target, const QStringList& predictions)
{
    comparison_->openComparison(target, predictions);
}

void MainWindow::addPrediction(const QString& path)
{
    comparison_->addPrediction(path);
}

void MainWindow::rebuildComparisonViews()
{
    // One tile per prediction, then the difference view while difference mode is active.
    const int entries = comparison_->count() >= 2 ? comparison_->count() : 0;
    const int wanted = entries + (entries > 0 && comparison_->differenceActive() ? 1 : 0);
    auto* row = static_cast<QHBoxLayout*>(comparison_host_->layout());
    while (static_cast<int>(comparison_tiles_.size()) > wanted) {
        QWidget* tile = comparison_tiles_.back();
        row->removeWidget(tile);
        delete tile;
        comparison_tiles_.pop_back();
        comparison_views_.pop_back();
        comparison_captions_.pop_back();
    }
    while (static_cast<int>(comparison_tiles_.size()) < wanted) {
        const int index = static_cast<int>(comparison_tiles_.size());
        auto* tile = new QWidget;
        auto* column = new QVBoxLayout(tile);
        column->setContentsMargins(0, 0, 0, 0);
        column->setSpacing(1);
        auto* caption = new QLabel;
        caption->setObjectName(QStringLiteral("comparisonCaption%1").arg(index));
        caption->setAlignment(Qt::AlignCenter);
        auto* view = new SliceView(presenter_, comparison_->comparisonAxis());
        view->setObjectName(QStringLiteral("comparisonView%1").arg(index));
        view->bindComparison(comparison_, index);
        connect(view, &SliceView::hovered, this, &MainWindow::updateHover);
        connect(view, &SliceView::hoverLeft, this, [this]() { hover_label_->clear(); });
        connect(view, &SliceView::maximiseRequested, this,
                [this]() { comparison_->setComparisonLayout(false); });
        column->addWidget(caption);
        column->addWidget(view, 1);
        row->addWidget(tile, 1);
        comparison_tiles_.push_back(tile);
        comparison_views_.push_back(view);
        comparison_captions_.push_back(caption);
    }
    for (int i = 0; i < wanted; ++i) {
        SliceView* view = comparison_views_[static_cast<std::size_t>(i)];
        QLabel* caption = comparison_captions_[static_cast<std::size_t>(i)];
        if (i < entries) {
            if (view->entry() != i) {
                view->bindComparison(comparison_, i);
            }
            const Rgb c = comparison_colour(i);
            caption->setText(comparison_->name(i));
            caption->setStyleSheet(QStringLiteral("QLabel { border-bottom: 3px solid rgb(%1, %2, %3); }")
                                       .arg(c.r)
                                       .arg(c.g)
                                       .arg(c.b));
            caption->setToolTip(comparison_->path(i));
        } else {
            if (view->entry() != SliceView::kDifference) {
                view->bindComparison(comparison_, SliceView::kDifference);
            }
            caption->setText(
                tr("%1 vs %2: only A right · only B right · both wrong")
                    .arg(comparison_->name(comparison_->pairA()), comparison_->name(comparison_->pairB())));
            caption->setStyleSheet({});
            caption->setToolTip(
                tr("blue #0072B2: only A right · orange #E69F00: only B right · purple #CC79A7: "
                   "both wrong · uncoloured: both right"));
        }
    }
    updateComparisonLayout();
}

void MainWindow::updateComparisonLayout()
{
    const bool on = comparison_->comparisonLayout();
    if (on && !layout_was_on_) {
        layout_was_on_ = true;
        // The orientation of the maximised slice view, else axial.
        auto* slice = qobject_cast<SliceView*>(maximised_);
        comparison_->setComparisonAxis(slice ? slice->axis() : ViewAxis::Axial);
    }
    layout_was_on_ = on;
    const bool show = comparison_->comparisonLayout() && comparison_->count() >= 2;
    view_stack_->setCurrentWidget(show ? comparison_host_ : view_stack_->widget(0));
    if (QAction* action = findChild<QAction*>(QStringLiteral("comparisonLayoutAction"))) {
        const QSignalBlocker block(action);
        action->setChecked(comparison_->comparisonLayout());
    }
}

SliceView* MainWindow::sliceView(ViewAxis axis) const
{
    switch (axis) {
    case ViewAxis::Coronal: return coronal_;
    case ViewAxis::Sagittal: return sagittal_;
    case ViewAxis::Axial: break;
    }
    return axial_;
}

QWidget* MainWindow::buildSidePanel()
{
    auto* panel = new QWidget;
    auto* layout = new QVBoxLayout(panel);
    layout->setContentsMargins(4, 4, 4, 4);

    // The probability metrics were refused (values outside [0, 1] or NaN
    // under activation none): say why, as the CLI does, and offer logits.
    probability_warning_ = new QFrame;
    probability_warning_->setObjectName(QStringLiteral("probabilityWarning"));
    probability_warning_->setStyleSheet(
        QStringLiteral("#probabilityWarning { background: #FFF4CE; border: 1px solid #D55E00; }"));
    auto* warning_row = new QHBoxLayout(probability_warning_);
    warning_row->setContentsMargins(6, 4, 6, 4);
    probability_warning_text_ = new QLabel;
    probability_warning_text_->setWordWrap(true);
    auto* as_logits = new QPushButton(tr("Treat as logits"));
    as_logits->setObjectName(QStringLiteral("treatAsLogits"));
    as_logits->setToolTip(tr("Apply a sigmoid to the prediction (--activation sigmoid)"));
    connect(as_logits, &QPushButton::clicked, this,
            [this]() { presenter_->setActivation(Activation::Sigmoid); });
    warning_row->addWidget(probability_warning_text_, 1);
    warning_row->addWidget(as_logits);
    probability_warning_->setVisible(false);
    layout->addWidget(probability_warning_);
    connect(presenter_, &SessionPresenter::evaluationChanged, this, [this]() {
        const QString& warning = presenter_->probabilityWarning();
        probability_warning_text_->setText(tr("bce, focal_loss and ce are not shown: %1").arg(warning));
        probability_warning_->setVisible(!warning.isEmpty());
    });

    auto* controls = new QGroupBox(tr("Controls"));
    auto* form = new QFormLayout(controls);
    form->setContentsMargins(6, 6, 6, 6);
    threshold_slider_ = new QSlider(Qt::Horizontal);
    threshold_slider_->setObjectName(QStringLiteral("thresholdSlider"));
    threshold_slider_->setRange(0, 100);
    threshold_label_ = new QLabel;
    threshold_label_->setMinimumWidth(36);
    auto* threshold_row = new QHBoxLayout;
    threshold_row->addWidget(threshold_slider_, 1);
    threshold_row->addWidget(threshold_label_);
    form->addRow(tr("Threshold"), threshold_row);
    connect(threshold_slider_, &QSlider::valueChanged, this, [this](int value) {
        threshold_label_->setText(QString::number(value / 100.0, 'f', 2));
        presenter_->setThreshold(value / 100.0);
    });

    // The decision rule (decision.h): what turns values into probabilities
    // and probabilities into classes, for the numbers and the picture alike.
    activation_combo_ = new QComboBox;
    activation_combo_->setObjectName(QStringLiteral("activationCombo"));
    activation_combo_->addItem(tr("None (probabilities)"), static_cast<int>(Activation::None));
    activation_combo_->addItem(tr("Sigmoid (logits)"), static_cast<int>(Activation::Sigmoid));
    activation_combo_->addItem(tr("Softmax over channels"), static_cast<int>(Activation::Softmax));
    form->addRow(tr("Activation"), activation_combo_);
    connect(activation_combo_, &QComboBox::activated, this, [this](int index) {
        presenter_->setActivation(static_cast<Activation>(activation_combo_->itemData(index).toInt()));
    });
    decision_combo_ = new QComboBox;
    decision_combo_->setObjectName(QStringLiteral("decisionCombo"));
    decision_combo_->addItem(tr("Threshold per channel"), static_cast<int>(Decision::Threshold));
    decision_combo_->addItem(tr("Argmax over channels"), static_cast<int>(Decision::Argmax));
    form->addRow(tr("Decision"), decision_combo_);
    connect(decision_combo_, &QComboBox::activated, this, [this](int index) {
        presenter_->setDecision(static_cast<Decision>(decision_combo_->itemData(index).toInt()));
    });

    smooth_combo_ = new QComboBox;
    smooth_combo_->setObjectName(QStringLiteral("smoothCombo"));
    for (const double smooth : {1e-6, 1e-5, 1e-3, 1.0}) {
        smooth_combo_->addItem(QString::number(smooth, 'g', 3), smooth);
    }
    form->addRow(tr("Dice/IoU smoothing"), smooth_combo_);
    connect(smooth_combo_, &QComboBox::currentIndexChanged, this,
            [this](int index) { presenter_->setSmooth(smooth_combo_->itemData(index).toDouble()); });

    axis_combo_ = new QComboBox;
    axis_combo_->setObjectName(QStringLiteral("axisCombo"));
    axis_combo_->addItem(tr("Default"), static_cast<int>(SliceAxis::Default));
    axis_combo_->addItem(tr("D (axial)"), static_cast<int>(SliceAxis::D));
    axis_combo_->addItem(tr("H (coronal)"), static_cast<int>(SliceAxis::H));
    axis_combo_->addItem(tr("W (sagittal)"), static_cast<int>(SliceAxis::W));
    form->addRow(tr("Slicing axis"), axis_combo_);
    connect(axis_combo_, &QComboBox::currentIndexChanged, this, [this](int index) {
        presenter_->setSliceAxis(static_cast<SliceAxis>(axis_combo_->itemData(index).toInt()));
    });

    empty_combo_ = new QComboBox;
    empty_combo_->setObjectName(QStringLiteral("emptyCombo"));
    empty_combo_->addItem(tr("NaN (—)"), static_cast<int>(EmptyPolicy::Nan));
    empty_combo_->addItem(tr("0"), static_cast<int>(EmptyPolicy::Zero));
    empty_combo_->addItem(tr("1"), static_cast<int>(EmptyPolicy::One));
    form->addRow(tr("Empty masks"), empty_combo_);
    connect(empty_combo_, &QComboBox::currentIndexChanged, this, [this](int index) {
        presenter_->setEmptyPolicy(static_cast<EmptyPolicy>(empty_combo_->itemData(index).toInt()));
    });

    mode_combo_ = new QComboBox;
    mode_combo_->setObjectName(QStringLiteral("modeCombo"));
    mode_combo_->addItem(tr("Errors (TP / FP / FN)"), static_cast<int>(DisplayMode::Errors));
    mode_combo_->addItem(tr("Layers"), static_cast<int>(DisplayMode::Overlay));
    form->addRow(tr("Display"), mode_combo_);

    const auto style_combo = [](const QString& name, bool colormap) {
        auto* combo = new QComboBox;
        combo->setObjectName(name);
        combo->addItem(QObject::tr("Hidden"), static_cast<int>(LayerStyle::Hidden));
        combo->addItem(QObject::tr("Filled"), static_cast<int>(LayerStyle::Filled));
        combo->addItem(QObject::tr("Outline"), static_cast<int>(LayerStyle::Outline));
        if (colormap) {
            combo->addItem(QObject::tr("Colormap"), static_cast<int>(LayerStyle::Colormap));
        }
        return combo;
    };
    const auto opacity_slider = [](const QString& name) {
        auto* slider = new QSlider(Qt::Horizontal);
        slider->setObjectName(name);
        slider->setRange(0, 100);
        slider->setMaximumWidth(90);
        return slider;
    };
    target_style_ = style_combo(QStringLiteral("targetStyle"), false);
    target_opacity_ = opacity_slider(QStringLiteral("targetOpacity"));
    auto* target_row = new QHBoxLayout;
    target_row->addWidget(target_style_, 1);
    target_row->addWidget(target_opacity_);
    form->addRow(tr("Target"), target_row);
    prediction_style_ = style_combo(QStringLiteral("predictionStyle"), true);
    prediction_opacity_ = opacity_slider(QStringLiteral("predictionOpacity"));
    auto* prediction_row = new QHBoxLayout;
    prediction_row->addWidget(prediction_style_, 1);
    prediction_row->addWidget(prediction_opacity_);
    form->addRow(tr("Prediction"), prediction_row);
    auto* bar = new QLabel;
    bar->setPixmap(colour_bar(160, 10));
    bar->setToolTip(tr("Probability colormap, 0 (left) to 1 (right)"));
    auto* bar_row = new QHBoxLayout;
    bar_row->addWidget(new QLabel(QStringLiteral("0")));
    bar_row->addWidget(bar);
    bar_row->addWidget(new QLabel(QStringLiteral("1")));
    bar_row->addStretch(1);
    form->addRow(tr("Probability"), bar_row);
    for (QComboBox* combo : {mode_combo_, target_style_, prediction_style_}) {
        connect(combo, &QComboBox::currentIndexChanged, this, &MainWindow::applyLayerControls);
    }
    for (QSlider* slider : {target_opacity_, prediction_opacity_}) {
        connect(slider, &QSlider::valueChanged, this, &MainWindow::applyLayerControls);
    }

    label_combo_ = new QComboBox;
    label_combo_->setObjectName(QStringLiteral("labelCombo"));
    form->addRow(tr("Label"), label_combo_);
    connect(label_combo_, &QComboBox::currentIndexChanged, presenter_, &SessionPresenter::setLabelIndex);

    distance_colour_check_ = new QCheckBox(tr("Colour prediction surface by distance to target (mm)"));
    distance_colour_check_->setObjectName(QStringLiteral("distanceColourCheck"));
    distance_colour_check_->setToolTip(
        tr("3D view: each point of the prediction surface coloured by the distance from its surface voxel "
           "to the target surface, with a colour bar"));
    form->addRow(tr("3D"), distance_colour_check_);
    connect(distance_colour_check_, &QCheckBox::toggled, surface_view_, &SurfaceView::setDistanceColouring);
    layout->addWidget(controls);

    loss_panel_ = new LossPanel(presenter_);
    layout->addWidget(loss_panel_, 3);

    auto* chart_row = new QHBoxLayout;
    metric_combo_ = new QComboBox;
    metric_combo_->setObjectName(QStringLiteral("metricCombo"));
    for (const Metric metric : gui_metrics()) {
        metric_combo_->addItem(metric_label(metric), static_cast<int>(metric));
    }
    for (const Metric metric : gui_distance_metrics()) {
        metric_combo_->addItem(metric_label(metric), static_cast<int>(metric));
    }
    metric_combo_->setCurrentIndex(metric_combo_->findData(static_cast<int>(presenter_->chartMetric())));
    connect(metric_combo_, &QComboBox::currentIndexChanged, this, [this](int index) {
        presenter_->setChartMetric(static_cast<Metric>(metric_combo_->itemData(index).toInt()));
        worst_rank_ = 0;
    });
    auto* worst = new QPushButton(tr("Worst slice"));
    worst->setObjectName(QStringLiteral("worstButton"));
    auto* next_worst = new QPushButton(tr("Next worst"));
    next_worst->setObjectName(QStringLiteral("nextWorstButton"));
    connect(worst, &QPushButton::clicked, this, [this]() { jumpToWorst(0); });
    connect(next_worst, &QPushButton::clicked, this, [this]() { jumpToWorst(worst_rank_ + 1); });
    auto* per_label = new QCheckBox(tr("Follow label"));
    per_label->setObjectName(QStringLiteral("chartPerLabel"));
    per_label->setChecked(presenter_->chartPerLabel());
    per_label->setToolTip(tr("The panel, chart, worst slice and sample table show the chosen label's values "
                             "(off: the whole sample's)"));
    connect(per_label, &QCheckBox::toggled, this, [this](bool on) {
        presenter_->setChartPerLabel(on);
        worst_rank_ = 0;
    });
    chart_row->addWidget(new QLabel(tr("Chart")));
    chart_row->addWidget(metric_combo_, 1);
    chart_row->addWidget(per_label);
    chart_row->addWidget(worst);
    chart_row->addWidget(next_worst);
    layout->addLayout(chart_row);
    chart_ = new SliceChart(presenter_);
    chart_->bindComparison(comparison_);
    layout->addWidget(chart_, 2);

    tables_ = new QTabWidget;
    sample_table_ = new SampleTable(presenter_);
    label_table_ = new LabelTable(presenter_);
    tables_->addTab(sample_table_, tr("Samples"));
    tables_->addTab(label_table_, tr("Labels"));
    comparison_panel_ = new ComparisonPanel(comparison_);
    tables_->addTab(comparison_panel_, tr("Compare"));
    layout->addWidget(tables_, 2);
    panel->setMinimumWidth(380);
    panel->setMaximumWidth(560);
    return panel;
}

void MainWindow::buildMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open_pair = file->addAction(tr("Open Prediction and Target…"));
    open_pair->setShortcut(QKeySequence::Open);
    connect(open_pair, &QAction::triggered, this, [this]() {
        const QString prediction = QFileDialog::getOpenFileName(this, tr("Open Prediction"), {}, kFileFilter);
        if (prediction.isEmpty()) {
            return;
        }
        const QString target =
            QFileDialog::getOpenFileName(this, tr("Open Target"), QFileInfo(prediction).path(), kFileFilter);
        if (!target.isEmpty()) {
            openFiles(prediction, target);
        }
    });
    QAction* open_prediction = file->addAction(tr("Open Prediction…"));
    open_prediction->setObjectName(QStringLiteral("openPredictionAction"));
    connect(open_prediction, &QAction::triggered, this, [this]() {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open Prediction"), {}, kFileFilter);
        if (!path.isEmpty()) {
            presenter_->openPrediction(path);
        }
    });
    QAction* open_target = file->addAction(tr("Open Target…"));
    open_target->setObjectName(QStringLiteral("openTargetAction"));
    connect(open_target, &QAction::triggered, this, [this]() {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open Target"), {}, kFileFilter);
        if (!path.isEmpty()) {
            presenter_->openTarget(path);
        }
    });
    QAction* add_prediction = file->addAction(tr("Add Prediction…"));
    add_prediction->setObjectName(QStringLiteral("addPredictionAction"));
    add_prediction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A));
    add_prediction->setToolTip(tr("Compare another prediction against the open target"));
    connect(add_prediction, &QAction::triggered, this, [this]() {
        const QStringList paths = QFileDialog::getOpenFileNames(
            this, tr("Add Prediction"), QFileInfo(presenter_->dataset().prediction_path).path(), kFileFilter);
        for (const QString& path : paths) {
            addPrediction(path);
        }
    });
    QAction* open_results = file->addAction(tr("Open Results…"));
    open_results->setObjectName(QStringLiteral("openResultsAction"));
    open_results->setToolTip(tr("Open a folder evaluation (masklens-cli evaluate-folder --format json)"));
    connect(open_results, &QAction::triggered, this, [this]() {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open Results"), {},
                                                          tr("Folder results (*.json);;All files (*)"));
        if (!path.isEmpty()) {
            openResults(path);
        }
    });
    recent_menu_ = file->addMenu(tr("Open Recent"));
    rebuildRecentMenu();
    file->addSeparator();
    QAction* export_csv = file->addAction(tr("Export CSV…"));
    connect(export_csv, &QAction::triggered, this, [this]() {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export CSV"),
                                                          QStringLiteral("masklens.csv"), tr("CSV (*.csv)"));
        if (!path.isEmpty()) {
            exportCsv(path);
        }
    });
    QAction* screenshot = file->addAction(tr("Save Screenshot…"));
    connect(screenshot, &QAction::triggered, this, [this]() {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save Screenshot"),
                                                          QStringLiteral("masklens.png"), tr("PNG (*.png)"));
        if (!path.isEmpty() && !saveScreenshot(path)) {
            showError(tr("The screenshot could not be saved."), path);
        }
    });
    QAction* view_shot = file->addAction(tr("Save View Screenshot…"));
    connect(view_shot, &QAction::triggered, this, [this]() {
        auto* view = qobject_cast<VtkHostWidget*>(focusWidget());
        if (!view) {
            view = axial_;
        }
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save View Screenshot"), QStringLiteral("masklens-view.png"), tr("PNG (*.png)"));
        if (!path.isEmpty() && !save_png_atomically(view->grabFramebuffer(), path)) {
            showError(tr("The screenshot could not be saved."), path);
        }
    });
    file->addSeparator();
    QAction* quit = file->addAction(tr("Quit"));
    quit->setShortcut(QKeySequence::Quit);
    connect(quit, &QAction::triggered, this, &QWidget::close);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    QAction* reset = view->addAction(tr("Reset Views"));
    reset->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    connect(reset, &QAction::triggered, this, [this]() {
        for (SliceView* slice : {axial_, coronal_, sagittal_}) {
            slice->resetView();
        }
        surface_view_->resetView();
    });
    QAction* compare = view->addAction(tr("Comparison Layout"));
    compare->setObjectName(QStringLiteral("comparisonLayoutAction"));
    compare->setCheckable(true);
    compare->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_K));
    connect(compare, &QAction::toggled, comparison_, &ComparisonPresenter::setComparisonLayout);
    QAction* maximise = view->addAction(tr("Maximise Focused View"));
    maximise->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_M));
    connect(maximise, &QAction::triggered, this, [this]() {
        QWidget* focused = focusWidget();
        for (QWidget* candidate : {static_cast<QWidget*>(axial_), static_cast<QWidget*>(coronal_),
                                   static_cast<QWidget*>(sagittal_), static_cast<QWidget*>(surface_view_)}) {
            if (candidate == focused) {
                toggleMaximised(candidate);
                return;
            }
        }
        toggleMaximised(axial_);
    });
}

void MainWindow::showError(const QString& text, const QString& details)
{
    if (reporter_) {
        reporter_(text, details);
    }
}

void MainWindow::openFiles(const QString& prediction, const QString& target)
{
    // A new pair: the predictions added for the previous one are dropped once it is open.
    comparison_->openComparison(target, {prediction});
}

bool MainWindow::openResults(const QString& path)
{
    QString error;
    std::optional<ResultsData> results = read_results(path, &error);
    if (!results) {
        showError(tr("The results file could not be read."), path + QStringLiteral(": ") + error);
        return false;
    }
    if (!results_panel_) {
        results_panel_ = new ResultsPanel;
        results_dock_ = new QDockWidget(tr("Cases"), this);
        results_dock_->setObjectName(QStringLiteral("resultsDock"));
        results_dock_->setWidget(results_panel_);
        addDockWidget(Qt::LeftDockWidgetArea, results_dock_);
        resizeDocks({results_dock_}, {420}, Qt::Horizontal);
        connect(results_panel_, &ResultsPanel::openRequested, this,
                [this](const QString& prediction, const QString& target, const QString& case_id) {
                    statusBar()->showMessage(tr("Opening case %1…").arg(case_id), 5000);
                    openFiles(prediction, target);
                });
        connect(results_panel_, &ResultsPanel::failedCaseActivated, this,
                [this](const QString& case_id, const QString& case_error) {
                    statusBar()->showMessage(
                        tr("Case %1 failed in the evaluation: %2").arg(case_id, case_error), 10000);
                });
    }
    const int cases = static_cast<int>(results->cases.size());
    results_panel_->setResults(std::move(*results));
    results_dock_->show();
    results_dock_->raise();
    statusBar()->showMessage(tr("%1 cases from %2").arg(cases).arg(QFileInfo(path).fileName()), 5000);
    return true;
}

void MainWindow::onDatasetChanged()
{
    const Dataset& dataset = presenter_->dataset();
    file_label_->setText(
        QStringLiteral("%1 vs %2")
            .arg(QFileInfo(dataset.prediction_path).fileName(), QFileInfo(dataset.target_path).fileName()));
    if (!dataset.prediction_path.isEmpty() && !dataset.target_path.isEmpty() && !presenter_->previewing() &&
        !presenter_->restoring()) {
        addRecent(dataset.prediction_path, dataset.target_path);
    }
    maximised_ = nullptr;
    worst_rank_ = 0;
    updateViewLayout();
    updateLabelChooser();
    tables_->setCurrentIndex(presenter_->labels().empty() ? 0 : (presenter_->sampleCount() > 1 ? 0 : 1));
    if (comparison_->count() >= 2 || comparison_->busy()) {
        tables_->setCurrentWidget(comparison_panel_);
    }
}

void MainWindow::updateViewLayout()
{
    // No data yet: the 2x2 grid, so every view's GL set-up happens while the
    // first files are read, not after.
    const bool volume = !presenter_->hasData() || presenter_->is3d();
    for (QWidget* view : {static_cast<QWidget*>(axial_), static_cast<QWidget*>(coronal_),
                          static_cast<QWidget*>(sagittal_), static_cast<QWidget*>(surface_view_)}) {
        bool visible = view == axial_ || volume;
        if (maximised_) {
            visible = view == maximised_;
        }
        view->setVisible(visible);
    }
}

void MainWindow::toggleMaximised(QWidget* view)
{
    maximised_ = maximised_ == view ? nullptr : view;
    updateViewLayout();
}

void MainWindow::updateLabelChooser()
{
    const QSignalBlocker block(label_combo_);
    label_combo_->clear();
    for (const std::int64_t label : presenter_->labels()) {
        label_combo_->addItem(QString::number(label));
    }
    label_combo_->setEnabled(!presenter_->labels().empty());
    label_combo_->setCurrentIndex(presenter_->labelIndex());
}

void MainWindow::syncControls()
{
    const EvaluationSettings& s = presenter_->settings();
    {
        const QSignalBlocker block(threshold_slider_);
        threshold_slider_->setValue(static_cast<int>(std::lround(s.threshold * 100)));
        threshold_label_->setText(QString::number(s.threshold, 'f', 2));
    }
    {
        const QSignalBlocker block_activation(activation_combo_);
        const QSignalBlocker block_decision(decision_combo_);
        activation_combo_->setCurrentIndex(activation_combo_->findData(static_cast<int>(s.activation)));
        decision_combo_->setCurrentIndex(decision_combo_->findData(static_cast<int>(s.decision)));
        threshold_slider_->setEnabled(s.decision == Decision::Threshold);
    }
    {
        const QSignalBlocker block(smooth_combo_);
        int index = 0;
        for (int i = 0; i < smooth_combo_->count(); ++i) {
            if (std::abs(smooth_combo_->itemData(i).toDouble() - s.smooth) <= 1e-12) {
                index = i;
            }
        }
        smooth_combo_->setCurrentIndex(index);
    }
    {
        const QSignalBlocker block(axis_combo_);
        axis_combo_->setCurrentIndex(axis_combo_->findData(static_cast<int>(s.axis)));
    }
    {
        const QSignalBlocker block(empty_combo_);
        empty_combo_->setCurrentIndex(empty_combo_->findData(static_cast<int>(s.empty)));
    }
    const LayerSettings& layers = presenter_->layers();
    for (auto [combo, value] : {std::pair{mode_combo_, static_cast<int>(layers.mode)},
                                std::pair{target_style_, static_cast<int>(layers.target_style)},
                                std::pair{prediction_style_, static_cast<int>(layers.prediction_style)}}) {
        const QSignalBlocker block(combo);
        combo->setCurrentIndex(combo->findData(value));
    }
    for (auto [slider, value] : {std::pair{target_opacity_, layers.target_opacity},
                                 std::pair{prediction_opacity_, layers.prediction_opacity}}) {
        const QSignalBlocker block(slider);
        slider->setValue(static_cast<int>(std::lround(value * 100)));
    }
}

void MainWindow::applyLayerControls()
{
    LayerSettings layers = presenter_->layers();
    layers.mode = static_cast<DisplayMode>(mode_combo_->currentData().toInt());
    layers.target_style = static_cast<LayerStyle>(target_style_->currentData().toInt());
    layers.prediction_style = static_cast<LayerStyle>(prediction_style_->currentData().toInt());
    layers.target_opacity = target_opacity_->value() / 100.0;
    layers.prediction_opacity = prediction_opacity_->value() / 100.0;
    presenter_->setLayers(layers);
}

void MainWindow::updateHover(const Voxel& voxel)
{
    if (!presenter_->hasData()) {
        return;
    }
    const VoxelClass c = presenter_->classifyVoxel(voxel);
    const auto mm = presenter_->physicalPosition(voxel);
    hover_label_->setText(tr("voxel (d %1, h %2, w %3) · (%4, %5, %6) mm · prediction %7 · target %8")
                              .arg(voxel.d)
                              .arg(voxel.h)
                              .arg(voxel.w)
                              .arg(mm[0], 0, 'f', 1)
                              .arg(mm[1], 0, 'f', 1)
                              .arg(mm[2], 0, 'f', 1)
                              .arg(c.prediction, 0, 'g', 4)
                              .arg(c.target, 0, 'g', 4));
}

void MainWindow::jumpToWorst(int rank)
{
    const auto slice = presenter_->worstSlice(presenter_->chartMetric(), rank);
    if (!slice) {
        if (rank > 0) {
            jumpToWorst(0); // wrap around
        }
        return;
    }
    worst_rank_ = rank;
    presenter_->setCurrentSlice(*slice);
}

bool MainWindow::exportCsv(const QString& path)
{
    const Evaluation* evaluation = presenter_->evaluation();
    if (!evaluation || presenter_->previewing()) {
        showError(tr("Nothing to export."), presenter_->previewing()
                                                ? tr("The numbers are still being computed.")
                                                : tr("Open a prediction and a target first."));
        return false;
    }
    try {
        std::ostringstream out;
        write_csv(out, *evaluation);
        write_file_atomically(path.toStdString(), out.str());
    } catch (const Error& error) {
        showError(tr("The CSV file could not be written."), QString::fromStdString(error.what()));
        return false;
    }
    statusBar()->showMessage(tr("Wrote %1").arg(path), 5000);
    return true;
}

QImage MainWindow::windowImage()
{
    return grab().toImage();
}

bool MainWindow::saveScreenshot(const QString& path)
{
    return save_png_atomically(windowImage(), path);
}

void MainWindow::addRecent(const QString& prediction, const QString& target)
{
    QSettings settings;
    QStringList recent = settings.value(QStringLiteral("recentPairs")).toStringList();
    const QString entry = prediction + QLatin1Char('\n') + target;
    recent.removeAll(entry);
    recent.prepend(entry);
    while (recent.size() > kMaxRecent) {
        recent.removeLast();
    }
    settings.setValue(QStringLiteral("recentPairs"), recent);
    rebuildRecentMenu();
}

void MainWindow::rebuildRecentMenu()
{
    recent_menu_->clear();
    const QStringList recent = QSettings().value(QStringLiteral("recentPairs")).toStringList();
    for (const QString& entry : recent) {
        const QStringList pair = entry.split(QLatin1Char('\n'));
        if (pair.size() != 2) {
            continue;
        }
        QAction* action = recent_menu_->addAction(
            QStringLiteral("%1 + %2").arg(QFileInfo(pair[0]).fileName(), QFileInfo(pair[1]).fileName()));
        action->setToolTip(entry);
        connect(action, &QAction::triggered, this, [this, pair]() { openFiles(pair[0], pair[1]); });
    }
    recent_menu_->setEnabled(!recent_menu_->isEmpty());
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls()) {
        event->acceptProposedAction();
    }
}

void MainWindow::dropEvent(QDropEvent* event)
{
    QStringList paths;
    for (const QUrl& url : event->mimeData()->urls()) {
        if (url.isLocalFile()) {
            paths << url.toLocalFile();
        }
    }
    if (paths.size() >= 2) {
        // Name hints decide which file is the target; otherwise the order dropped.
        if (looks_like_target(paths[0]) && !looks_like_target(paths[1])) {
            paths.swapItemsAt(0, 1);
        }
        openFiles(paths[0], paths[1]);
    } else if (paths.size() == 1) {
        if (looks_like_target(paths[0])) {
            presenter_->openTarget(paths[0]);
        } else {
            presenter_->openPrediction(paths[0]);
        }
    }
    event->acceptProposedAction();
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    presenter_->cancel();
    presenter_->waitForIdle();
    QMainWindow::closeEvent(event);
}

} // namespace masklens::ui
