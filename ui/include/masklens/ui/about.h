// What built this MaskLens: its version and build options, and the versions
// of the libraries it runs on (the About dialog; also useful in bug reports).
#pragma once

#include <QString>

class QWidget;

namespace masklens::ui {

// Lines "MaskLens 0.1.0+g1a2b3c4", "Build: CUDA path built|not built, SIMD
// AVX2+FMA|SSE2", "Qt 6.4.2, VTK 9.1.0, Eigen 3.4.0", and the compute device.
QString about_text();

// The modal About dialog with about_text().
void show_about(QWidget* parent);

} // namespace masklens::ui
