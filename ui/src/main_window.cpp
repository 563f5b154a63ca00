// MainWindow's construction (the view grid, the comparison layout's stack,
// the splitter, the presenters' wiring), which views show, and its lifetime.
// Its other jobs are in main_window_*.cpp.
#include "masklens/ui/main_window.h"

#include "masklens/ui/comparison_panel.h"
#include "masklens/ui/comparison_presenter.h"
#include "masklens/ui/slice_view.h"
#include "masklens/ui/surface_view.h"

#include <QCloseEvent>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QSignalBlocker>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTabWidget>

namespace masklens::ui {

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
        // The first line of the details, shortened at a word (never mid-word);
        // QMessageBox wraps it, and "Show Details" has the whole text.
        QString first = details.section(QLatin1Char('\n'), 0, 0);
        if (first.size() > 300) {
            const qsizetype space = first.lastIndexOf(QLatin1Char(' '), 300);
            first = first.left(space > 0 ? space : 300) + QStringLiteral(" …");
        }
        box->setInformativeText(first);
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
            tables_->setCurrentWidget(tables_->findChild<QWidget*>(QStringLiteral("compareTab")));
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

    buildStatusBar();
    connect(presenter_, &SessionPresenter::errorOccurred, this, &MainWindow::showError);
    connect(presenter_, &SessionPresenter::cancelled, this,
            [this]() { statusBar()->showMessage(tr("Cancelled; the previous data is kept."), 5000); });
    connect(presenter_, &SessionPresenter::datasetChanged, this, &MainWindow::onDatasetChanged);
    // Freshly opened volumes are drawn before their evaluation takes the cores.
    presenter_->setPreviewFirst(true);
    connect(axial_, &VtkHostWidget::frameSwapped, this, [this]() {
        if (presenter_->previewing() && axial_->scene().hasImage()) {
            presenter_->previewShown();
        }
    });
    connect(presenter_, &SessionPresenter::evaluationChanged, this, &MainWindow::updateLabelChooser);
    connect(presenter_, &SessionPresenter::settingsChanged, this, &MainWindow::syncControls);
    connect(presenter_, &SessionPresenter::labelChanged, this, [this]() {
        const QSignalBlocker block(label_combo_);
        label_combo_->setCurrentIndex(presenter_->labelIndex() + 1); // entry 0: "All labels"
    });

    buildMenus();
    syncControls();
    updateViewLayout();
    resize(1400, 900);
    restoreSettings();
}

MainWindow::~MainWindow()
{
    presenter_->cancel();
    presenter_->waitForIdle();
}

bool MainWindow::isSettled() const
{
    return !presenter_->busy() && !presenter_->imageLoading() &&
           presenter_->distanceState() != DistanceState::Pending && !surface_view_->building() &&
           !comparison_->busy();
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

void MainWindow::showError(const QString& text, const QString& details)
{
    if (reporter_) {
        reporter_(text, details);
    }
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
        tables_->setCurrentWidget(tables_->findChild<QWidget*>(QStringLiteral("compareTab")));
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

void MainWindow::closeEvent(QCloseEvent* event)
{
    presenter_->cancel();
    presenter_->waitForIdle();
    saveSettings();
    QMainWindow::closeEvent(event);
}

} // namespace masklens::ui
