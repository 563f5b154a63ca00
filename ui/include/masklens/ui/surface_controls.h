// The 3D view's controls (a tab of the side panel): each surface's visibility
// and opacity, distance colouring with its range, clipping at the cursor's
// axial, coronal or sagittal slice. It drives the SurfaceView's scene and holds no other state.
#pragma once

#include "masklens/ui/surface_scene.h"

#include <QWidget>

#include <array>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QSlider;

namespace masklens::ui {

class SurfaceView;

class SurfaceControls : public QWidget {
    Q_OBJECT
public:
    explicit SurfaceControls(SurfaceView* view, QWidget* parent = nullptr);
    QCheckBox* distanceCheck() const { return distance_check_; }
    // 0: automatic (the 95th percentile of the distances).
    QDoubleSpinBox* distanceTop() const { return distance_top_; }
    // Clipping plane: 0 off, 1 axial, 2 coronal, 3 sagittal.
    QComboBox* clipCombo() const { return clip_combo_; }
    QCheckBox* visibleCheck(SurfaceLayer layer) const { return visible_[static_cast<std::size_t>(layer)]; }
    QSlider* opacitySlider(SurfaceLayer layer) const { return opacity_[static_cast<std::size_t>(layer)]; }

private:
    void applyStyles();
    void showRange();
    SurfaceView* view_;
    std::array<QCheckBox*, kSurfaceLayerCount> visible_{};
    std::array<QSlider*, kSurfaceLayerCount> opacity_{};
    QCheckBox* distance_check_;
    QDoubleSpinBox* distance_top_;
    QComboBox* clip_combo_;
};

} // namespace masklens::ui
