#include "masklens/ui/comparison_panel.h"

#include "masklens/ui/metric_format.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QVBoxLayout>

#include <cmath>
#include <limits>

namespace masklens::ui {

ComparisonPanel::ComparisonPanel(ComparisonPresenter* comparison, QWidget* parent)
    : QWidget(parent), comparison_(comparison)
{
    setObjectName(QStringLiteral("comparisonPanel"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);

    auto* top = new QHBoxLayout;
    add_ = new QPushButton(tr("Add Prediction…"));
    add_->setObjectName(QStringLiteral("addPredictionButton"));
    remove_ = new QPushButton(tr("Remove"));
    remove_->setObjectName(QStringLiteral("removePredictionButton"));
    remove_->setToolTip(tr("Remove the selected prediction (not the first)"));
    layout_check_ = new QCheckBox(tr("Side by side"));
    layout_check_->setObjectName(QStringLiteral("comparisonLayoutCheck"));
    layout_check_->setToolTip(tr("One linked slice view per prediction (View → Comparison Layout, Ctrl+K)"));
    top->addWidget(add_);
    top->addWidget(remove_);
    top->addStretch(1);
    top->addWidget(layout_check_);
    layout->addLayout(top);

    table_ = new ComparisonTable(comparison_);
    layout->addWidget(table_, 1);

    auto* pair = new QHBoxLayout;
    a_combo_ = new QComboBox;
    a_combo_->setObjectName(QStringLiteral("comparisonA"));
    b_combo_ = new QComboBox;
    b_combo_->setObjectName(QStringLiteral("comparisonB"));
    difference_check_ = new QCheckBox(tr("Difference"));
    difference_check_->setObjectName(QStringLiteral("differenceCheck"));
    difference_check_->setToolTip(tr("Slice views: only A right (blue), only B right (orange), both wrong "
                                     "(purple); both right uncoloured"));
    pair->addWidget(new QLabel(tr("A")));
    pair->addWidget(a_combo_, 1);
    pair->addWidget(new QLabel(tr("B")));
    pair->addWidget(b_combo_, 1);
    pair->addWidget(difference_check_);
    layout->addLayout(pair);

    auto* differ = new QHBoxLayout;
    differ_most_ = new QPushButton(tr("Differ most"));
    differ_most_->setObjectName(QStringLiteral("differMostButton"));
    differ_most_->setToolTip(tr("The slice with the largest |A − B| of the chart metric"));
    next_differ_ = new QPushButton(tr("Next"));
    next_differ_->setObjectName(QStringLiteral("nextDifferButton"));
    differ_note_ = new QLabel;
    differ_note_->setObjectName(QStringLiteral("differNote"));
    differ->addWidget(differ_most_);
    differ->addWidget(next_differ_);
    differ->addWidget(differ_note_, 1);
    layout->addLayout(differ);

    counts_ = new QLabel;
    counts_->setObjectName(QStringLiteral("differenceCounts"));
    counts_->setWordWrap(true);
    counts_->setTextFormat(Qt::RichText);
    layout->addWidget(counts_);

    connect(add_, &QPushButton::clicked, this, [this]() {
        // The window owns the file dialog (the presenter opens none).
        if (auto* action = window()->findChild<QAction*>(QStringLiteral("addPredictionAction"))) {
            action->trigger();
        }
    });
    connect(remove_, &QPushButton::clicked, this,
            [this]() { comparison_->removePrediction(table_->currentRow()); });
    connect(layout_check_, &QCheckBox::toggled, comparison_, &ComparisonPresenter::setComparisonLayout);
    connect(comparison_, &ComparisonPresenter::layoutChanged, this, [this]() {
        const QSignalBlocker block(layout_check_);
        layout_check_->setChecked(comparison_->comparisonLayout());
    });
    connect(difference_check_, &QCheckBox::toggled, comparison_, &ComparisonPresenter::setDifferenceMode);
    connect(comparison_, &ComparisonPresenter::differenceChanged, this, [this]() {
        const QSignalBlocker block(difference_check_);
        difference_check_->setChecked(comparison_->differenceMode());
        refreshCounts();
    });
    const auto pair_changed = [this]() {
        comparison_->setPair(a_combo_->currentIndex(), b_combo_->currentIndex());
    };
    connect(a_combo_, &QComboBox::currentIndexChanged, this, pair_changed);
    connect(b_combo_, &QComboBox::currentIndexChanged, this, pair_changed);
    connect(comparison_, &ComparisonPresenter::pairChanged, this, [this]() {
        refreshChoosers();
        refreshCounts();
        differ_note_->clear();
    });
    connect(comparison_, &ComparisonPresenter::entriesChanged, this, [this]() {
        refreshChoosers();
        refreshCounts();
    });
    SessionPresenter* session = comparison_->session();
    connect(session, &SessionPresenter::sampleChanged, this, &ComparisonPanel::refreshCounts);
    connect(session, &SessionPresenter::labelChanged, this, &ComparisonPanel::refreshCounts);
    connect(session, &SessionPresenter::evaluationChanged, this, &ComparisonPanel::refreshCounts);
    connect(comparison_, &ComparisonPresenter::differenceCountsChanged, this,
            &ComparisonPanel::refreshCounts);
    connect(session, &SessionPresenter::chartMetricChanged, differ_note_, &QLabel::clear);
    connect(differ_most_, &QPushButton::clicked, this,
            [this]() { showDiffer(comparison_->goToDifferMost(false)); });
    connect(next_differ_, &QPushButton::clicked, this,
            [this]() { showDiffer(comparison_->goToDifferMost(true)); });
    refreshChoosers();
    refreshCounts();
}

void ComparisonPanel::refreshChoosers()
{
    for (QComboBox* combo : {a_combo_, b_combo_}) {
        const QSignalBlocker block(combo);
        combo->clear();
        for (int i = 0; i < comparison_->count(); ++i) {
            combo->addItem(comparison_->name(i));
        }
    }
    const bool pair = comparison_->count() >= 2;
    {
        const QSignalBlocker block_a(a_combo_);
        const QSignalBlocker block_b(b_combo_);
        a_combo_->setCurrentIndex(pair ? comparison_->pairA() : -1);
        b_combo_->setCurrentIndex(pair ? comparison_->pairB() : -1);
    }
    for (QWidget* widget : {static_cast<QWidget*>(a_combo_), static_cast<QWidget*>(b_combo_),
                            static_cast<QWidget*>(difference_check_), static_cast<QWidget*>(differ_most_),
                            static_cast<QWidget*>(next_differ_), static_cast<QWidget*>(layout_check_)}) {
        widget->setEnabled(pair);
    }
    remove_->setEnabled(pair);
}

void ComparisonPanel::refreshCounts()
{
    if (!comparison_->differenceActive()) {
        counts_->setText(comparison_->count() >= 2 ? tr("Difference mode off.")
                                                   : tr("Add a prediction to compare."));
        return;
    }
    const std::optional<DifferenceCounts> ready = comparison_->readyDifferenceCounts();
    if (!ready) {
        counts_->setText(tr("Counting the voxels of this sample…"));
        return;
    }
    const DifferenceCounts counts = *ready;
    const auto swatch = [](const Rgb& c) {
        return QStringLiteral("<span style=\"background-color:#%1;\">&nbsp;&nbsp;&nbsp;</span>")
            .arg((c.r << 16) | (c.g << 8) | c.b, 6, 16, QLatin1Char('0'));
    };
    counts_->setText(tr("%1 only A right: %2 &nbsp; %3 only B right: %4 &nbsp; %5 both wrong: %6 (voxels, "
                        "this sample)")
                         .arg(swatch(kOnlyARightColour))
                         .arg(counts.only_a_right)
                         .arg(swatch(kOnlyBRightColour))
                         .arg(counts.only_b_right)
                         .arg(swatch(kBothWrongColour))
                         .arg(counts.both_wrong));
}

void ComparisonPanel::showDiffer(std::optional<std::int64_t> slice)
{
    if (!slice) {
        differ_note_->setText(tr("no slice with both values"));
        return;
    }
    SessionPresenter* session = comparison_->session();
    const Metric metric = session->chartMetric();
    const std::vector<double> a = comparison_->chartSeries(comparison_->pairA(), metric);
    const std::vector<double> b = comparison_->chartSeries(comparison_->pairB(), metric);
    const auto index = static_cast<std::size_t>(*slice);
    const double difference = index < a.size() && index < b.size() ? std::abs(a[index] - b[index])
                                                                   : std::numeric_limits<double>::quiet_NaN();
    differ_note_->setText(tr("#%1: slice %2, |Δ %3| = %4")
                              .arg(comparison_->differRank() + 1)
                              .arg(*slice)
                              .arg(metric_label(metric))
                              .arg(QString::number(difference, 'g', 4)));
}

} // namespace masklens::ui
