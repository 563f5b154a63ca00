// MainWindow's side panel: the probability warning, the controls (and their
// sync with the presenter's settings), the loss panel, chart and tables.
#include "masklens/ui/main_window.h"

#include "table_cells.h"

#include "masklens/ui/comparison_panel.h"
#include "masklens/ui/label_table.h"
#include "masklens/ui/lesion_panel.h"
#include "masklens/ui/loss_panel.h"
#include "masklens/ui/metric_format.h"
#include "masklens/ui/sample_table.h"
#include "masklens/ui/slice_chart.h"
#include "masklens/ui/slice_view.h"
#include "masklens/ui/surface_controls.h"
#include "masklens/ui/surface_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFormLayout>
#include <QFrame>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QIcon>
#include <QLabel>
#include <QPixmap>
#include <QPushButton>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSlider>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace masklens::ui {

namespace {

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

// Gives a splitter's children their share of its height at its first real
// size, then removes itself.
class FirstSizes : public QObject {
public:
    FirstSizes(QSplitter* splitter, std::vector<double> shares)
        : QObject(splitter), shares_(std::move(shares))
    {}

protected:
    bool eventFilter(QObject* watched, QEvent* event) override
    {
        auto* splitter = static_cast<QSplitter*>(watched);
        if (event->type() == QEvent::Resize && splitter->height() > 100) {
            QList<int> sizes;
            for (const double share : shares_) {
                sizes << static_cast<int>(share * splitter->height());
            }
            splitter->setSizes(sizes);
            splitter->removeEventFilter(this);
            deleteLater();
        }
        return false;
    }

private:
    std::vector<double> shares_;
};

} // namespace

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

    // Two tabs (evaluation, display): one long form pushed the window past
    // 800 px and squeezed the metrics.
    auto* controls = new QTabWidget;
    controls->setObjectName(QStringLiteral("controlTabs"));
    auto* evaluation_page = new QWidget;
    auto* display_page = new QWidget;
    auto* form = new QFormLayout(evaluation_page);
    auto* display_form = new QFormLayout(display_page);
    for (QFormLayout* page : {form, display_form}) {
        page->setContentsMargins(6, 6, 6, 6);
    }
    controls->addTab(evaluation_page, tr("Evaluation"));
    controls->addTab(display_page, tr("Display"));
    threshold_slider_ = new QSlider(Qt::Horizontal);
    threshold_slider_->setObjectName(QStringLiteral("thresholdSlider"));
    threshold_slider_->setRange(0, 100);
    // The threshold can be dragged (steps of 0.01) or typed (0.001); each follows the other.
    threshold_spin_ = new QDoubleSpinBox;
    threshold_spin_->setObjectName(QStringLiteral("thresholdSpin"));
    threshold_spin_->setRange(0.0, 1.0);
    threshold_spin_->setDecimals(3);
    threshold_spin_->setSingleStep(0.01);
    threshold_spin_->setKeyboardTracking(false); // evaluate once the number is typed, not per digit
    threshold_spin_->setToolTip(tr("Probability threshold (--threshold): type a value or drag the slider"));
    auto* threshold_row = new QHBoxLayout;
    threshold_row->addWidget(threshold_slider_, 1);
    threshold_row->addWidget(threshold_spin_);
    form->addRow(tr("Threshold"), threshold_row);
    connect(threshold_slider_, &QSlider::valueChanged, this, [this](int value) {
        const QSignalBlocker block(threshold_spin_);
        threshold_spin_->setValue(value / 100.0);
        presenter_->setThreshold(value / 100.0);
    });
    connect(threshold_spin_, &QDoubleSpinBox::valueChanged, this, [this](double value) {
        const QSignalBlocker block(threshold_slider_);
        threshold_slider_->setValue(static_cast<int>(std::lround(value * 100)));
        presenter_->setThreshold(value);
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

    form = display_form; // the rows below: how the views show the classes
    mode_combo_ = new QComboBox;
    mode_combo_->setObjectName(QStringLiteral("modeCombo"));
    mode_combo_->addItem(tr("Errors (TP / FP / FN)"), static_cast<int>(DisplayMode::Errors));
    mode_combo_->addItem(tr("Layers"), static_cast<int>(DisplayMode::Overlay));
    mode_combo_->addItem(tr("All labels (colour table)"), static_cast<int>(DisplayMode::Labels));
    mode_combo_->addItem(tr("Lesions (found / missed / false)"), static_cast<int>(DisplayMode::Lesions));
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
    // Entry 0 is "All labels" (no label chosen: the whole foreground's values).
    connect(label_combo_, &QComboBox::currentIndexChanged, presenter_,
            [this](int index) { presenter_->setLabelIndex(index - 1); });
    connect(presenter_, &SessionPresenter::labelColoursChanged, this, &MainWindow::updateLabelChooser);
    // The chosen label's visibility and opacity in the "All labels" display.
    auto* label_row = new QHBoxLayout;
    auto* label_visible = new QCheckBox(tr("Show"));
    label_visible->setObjectName(QStringLiteral("labelVisibleCheck"));
    auto* label_opacity = new QSlider(Qt::Horizontal);
    label_opacity->setObjectName(QStringLiteral("labelOpacitySlider"));
    label_opacity->setRange(0, 100);
    label_opacity->setToolTip(tr("Opacity of the chosen label in the \"All labels\" display"));
    label_row->addWidget(label_visible);
    label_row->addWidget(label_opacity, 1);
    form->addRow(tr("Label style"), label_row);
    const auto sync_label_style = [this, label_visible, label_opacity]() {
        const std::optional<std::int64_t> label = presenter_->currentLabel();
        const LabelStyle style = label_style(presenter_->labelColours(), label.value_or(0));
        const QSignalBlocker block_visible(label_visible);
        const QSignalBlocker block_opacity(label_opacity);
        label_visible->setEnabled(label.has_value());
        label_opacity->setEnabled(label.has_value());
        label_visible->setChecked(style.visible);
        label_opacity->setValue(static_cast<int>(std::lround(style.opacity * 100)));
    };
    for (auto signal : {&SessionPresenter::labelChanged, &SessionPresenter::labelColoursChanged,
                        &SessionPresenter::evaluationChanged}) {
        connect(presenter_, signal, this, sync_label_style);
    }
    const auto apply_label_style = [this, label_visible, label_opacity]() {
        if (const std::optional<std::int64_t> label = presenter_->currentLabel()) {
            presenter_->setLabelDisplay(*label, label_visible->isChecked(), label_opacity->value() / 100.0);
        }
    };
    connect(label_visible, &QCheckBox::toggled, this, apply_label_style);
    connect(label_opacity, &QSlider::valueChanged, this, apply_label_style);
    sync_label_style();
    layout->addWidget(controls);

    // The metrics, the chart and the tables share the rest in a splitter the
    // user can drag; the metrics get the most room by default.
    auto* splitter = new QSplitter(Qt::Vertical);
    splitter->setObjectName(QStringLiteral("sidePanelSplitter"));
    splitter->setChildrenCollapsible(false);
    layout->addWidget(splitter, 1);
    loss_panel_ = new LossPanel(presenter_);
    splitter->addWidget(loss_panel_);

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
    // The buttons on a row of their own: beside the combo box they were cut at 1280 px.
    auto* chart_buttons = new QHBoxLayout;
    chart_buttons->addWidget(per_label);
    chart_buttons->addStretch(1);
    chart_buttons->addWidget(worst);
    chart_buttons->addWidget(next_worst);
    auto* chart_box = new QWidget;
    auto* chart_layout = new QVBoxLayout(chart_box);
    chart_layout->setContentsMargins(0, 0, 0, 0);
    chart_layout->addLayout(chart_row);
    chart_layout->addLayout(chart_buttons);
    chart_ = new SliceChart(presenter_);
    chart_->bindComparison(comparison_);
    chart_layout->addWidget(chart_, 1);
    splitter->addWidget(chart_box);

    tables_ = new QTabWidget;
    sample_table_ = new SampleTable(presenter_);
    label_table_ = new LabelTable(presenter_);
    tables_->addTab(sample_table_, tr("Samples"));
    tables_->addTab(label_table_, tr("Labels"));
    comparison_panel_ = new ComparisonPanel(comparison_);
    // Scroll areas keep the pages' rows from raising the tabs' minimum height
    // (the splitter would take that room from the metrics).
    const auto scrolled = [](QWidget* page, const QString& name) {
        auto* scroll = new QScrollArea;
        scroll->setObjectName(name);
        scroll->setWidget(page);
        scroll->setWidgetResizable(true);
        scroll->setFrameShape(QFrame::NoFrame);
        return scroll;
    };
    tables_->addTab(scrolled(comparison_panel_, QStringLiteral("compareTab")), tr("Compare"));
    tables_->addTab(new LesionPanel(presenter_), tr("Lesions"));
    surface_controls_ = new SurfaceControls(surface_view_);
    distance_colour_check_ = surface_controls_->distanceCheck();
    tables_->addTab(scrolled(surface_controls_, QStringLiteral("surfaceTab")), tr("3D"));
    splitter->addWidget(tables_);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    splitter->setStretchFactor(2, 1);
    // Start with most of the room for the metrics, once the splitter has its
    // height (sizes given before that are lost to the children's hints).
    splitter->installEventFilter(new FirstSizes(splitter, {0.5, 0.34, 0.16}));
    panel->setMinimumWidth(380);
    panel->setMaximumWidth(560);
    return panel;
}

void MainWindow::updateLabelChooser()
{
    const QSignalBlocker block(label_combo_);
    label_combo_->clear();
    label_combo_->addItem(tr("All labels"));
    for (const LabelStyle& style : presenter_->labelStyles()) {
        label_combo_->addItem(label_swatch(style), label_text(style));
    }
    label_combo_->setEnabled(!presenter_->labels().empty());
    label_combo_->setCurrentIndex(presenter_->labelIndex() + 1);
}

void MainWindow::syncControls()
{
    const EvaluationSettings& s = presenter_->settings();
    {
        const QSignalBlocker block(threshold_slider_);
        const QSignalBlocker block_spin(threshold_spin_);
        threshold_slider_->setValue(static_cast<int>(std::lround(s.threshold * 100)));
        threshold_spin_->setValue(s.threshold);
    }
    {
        const QSignalBlocker block_activation(activation_combo_);
        const QSignalBlocker block_decision(decision_combo_);
        activation_combo_->setCurrentIndex(activation_combo_->findData(static_cast<int>(s.activation)));
        decision_combo_->setCurrentIndex(decision_combo_->findData(static_cast<int>(s.decision)));
        threshold_slider_->setEnabled(s.decision == Decision::Threshold);
        threshold_spin_->setEnabled(s.decision == Decision::Threshold);
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

void MainWindow::stepSample(int delta)
{
    if (!presenter_->hasData() || presenter_->sampleCount() < 2) {
        return;
    }
    const std::int64_t sample =
        std::clamp<std::int64_t>(presenter_->sample() + delta, 0, presenter_->sampleCount() - 1);
    presenter_->setSample(sample);
    statusBar()->showMessage(tr("Sample %1 of %2").arg(sample).arg(presenter_->sampleCount()), 3000);
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

} // namespace masklens::ui
