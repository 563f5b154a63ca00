#include "masklens/ui/surface_controls.h"

#include "masklens/ui/surface_view.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QGridLayout>
#include <QLabel>
#include <QSlider>

#include <cmath>

namespace masklens::ui {

SurfaceControls::SurfaceControls(SurfaceView* view, QWidget* parent) : QWidget(parent), view_(view)
{
    setObjectName(QStringLiteral("surfaceControls"));
    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(6, 6, 6, 6);
    static constexpr const char* kNames[kSurfaceLayerCount] = {"Target", "True positive", "False positive",
                                                               "False negative"};
    static constexpr const char* kKeys[kSurfaceLayerCount] = {"Target", "Tp", "Fp", "Fn"};
    static constexpr Rgb kColours[kSurfaceLayerCount] = {kTargetColour, kTruePositiveColour,
                                                         kFalsePositiveColour, kFalseNegativeColour};
    grid->addWidget(new QLabel(tr("Surface")), 0, 0);
    grid->addWidget(new QLabel(tr("Opacity")), 0, 1);
    for (int i = 0; i < kSurfaceLayerCount; ++i) {
        const auto layer = static_cast<SurfaceLayer>(i);
        const SurfaceStyle style = view_->scene().surfaceStyle(layer);
        auto* check = new QCheckBox(tr(kNames[i]));
        check->setObjectName(QStringLiteral("surfaceVisible%1").arg(QLatin1String(kKeys[i])));
        check->setChecked(style.visible);
        const Rgb c = kColours[i];
        check->setStyleSheet(QStringLiteral("QCheckBox::indicator:checked { background: rgb(%1,%2,%3); "
                                            "border: 1px solid #444; }")
                                 .arg(c.r)
                                 .arg(c.g)
                                 .arg(c.b));
        auto* slider = new QSlider(Qt::Horizontal);
        slider->setObjectName(QStringLiteral("surfaceOpacity%1").arg(QLatin1String(kKeys[i])));
        slider->setRange(0, 100);
        slider->setValue(static_cast<int>(std::lround(style.opacity * 100)));
        slider->setToolTip(tr("Opacity of the %1 surface in 3D").arg(tr(kNames[i]).toLower()));
        visible_[static_cast<std::size_t>(i)] = check;
        opacity_[static_cast<std::size_t>(i)] = slider;
        grid->addWidget(check, i + 1, 0);
        grid->addWidget(slider, i + 1, 1);
        connect(check, &QCheckBox::toggled, this, &SurfaceControls::applyStyles);
        connect(slider, &QSlider::valueChanged, this, &SurfaceControls::applyStyles);
    }

    distance_check_ = new QCheckBox(tr("Colour by distance to target"));
    distance_check_->setObjectName(QStringLiteral("distanceColourCheck"));
    distance_check_->setToolTip(
        tr("3D view: each point of the prediction surface coloured by the distance (mm) from its surface "
           "voxel to the target surface, with a colour bar"));
    grid->addWidget(distance_check_, kSurfaceLayerCount + 1, 0, 1, 2);
    connect(distance_check_, &QCheckBox::toggled, view_, &SurfaceView::setDistanceColouring);
    connect(distance_check_, &QCheckBox::toggled, this, &SurfaceControls::showRange);

    grid->addWidget(new QLabel(tr("Colour range up to")), kSurfaceLayerCount + 2, 0);
    distance_top_ = new QDoubleSpinBox;
    distance_top_->setObjectName(QStringLiteral("distanceTop"));
    distance_top_->setRange(0, 1000);
    distance_top_->setDecimals(1);
    distance_top_->setSingleStep(0.5);
    distance_top_->setSuffix(tr(" mm"));
    distance_top_->setSpecialValueText(tr("auto (95th pct)"));
    distance_top_->setToolTip(tr("Distances above this are drawn in the top colour. Auto: the 95th "
                                 "percentile of the surface's distances, so a far blob does not flatten "
                                 "the few-mm errors"));
    grid->addWidget(distance_top_, kSurfaceLayerCount + 2, 1);
    connect(distance_top_, &QDoubleSpinBox::valueChanged, this, [this](double value) {
        view_->scene().setDistanceRange(value > 0 ? std::optional<double>(value) : std::nullopt);
        view_->requestRender();
    });

    auto* clip_label = new QLabel(tr("Clip at the crosshair"));
    clip_combo_ = new QComboBox;
    clip_combo_->setObjectName(QStringLiteral("clipCombo"));
    clip_combo_->addItems({tr("Off"), tr("Axial slice"), tr("Coronal slice"), tr("Sagittal slice")});
    clip_combo_->setToolTip(
        tr("Cut the surfaces away beyond the crosshair's slice (higher D, H or W), to see "
           "inside"));
    clip_label->setBuddy(clip_combo_);
    grid->addWidget(clip_label, kSurfaceLayerCount + 3, 0);
    grid->addWidget(clip_combo_, kSurfaceLayerCount + 3, 1);
    connect(clip_combo_, &QComboBox::currentIndexChanged, this, [this](int index) {
        static constexpr ViewAxis kPlanes[] = {ViewAxis::Axial, ViewAxis::Coronal, ViewAxis::Sagittal};
        view_->scene().setClipPlane(index > 0 ? std::optional(kPlanes[index - 1]) : std::nullopt);
        view_->requestRender();
    });
    grid->setColumnStretch(1, 1);
    grid->setRowStretch(kSurfaceLayerCount + 4, 1);
    connect(view_, &SurfaceView::surfacesReady, this, &SurfaceControls::showRange);
    showRange();
}

void SurfaceControls::applyStyles()
{
    for (int i = 0; i < kSurfaceLayerCount; ++i) {
        const auto k = static_cast<std::size_t>(i);
        view_->scene().setSurfaceStyle(static_cast<SurfaceLayer>(i),
                                       SurfaceStyle{visible_[k]->isChecked(), opacity_[k]->value() / 100.0});
    }
    view_->requestRender();
}

void SurfaceControls::showRange()
{
    const SurfaceMeshes& meshes = view_->scene().meshes();
    distance_top_->setEnabled(distance_check_->isChecked());
    distance_top_->setSpecialValueText(meshes.has_distances
                                           ? tr("auto (%1 mm)").arg(meshes.p95_distance, 0, 'f', 1)
                                           : tr("auto (95th pct)"));
}

} // namespace masklens::ui
