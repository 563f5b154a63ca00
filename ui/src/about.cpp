// The About dialog's text (about.h): version, build options, library versions.
#include "masklens/ui/about.h"

#include "masklens/engine/build_info.h"
#include "masklens/gpu/backend.h"
#include "masklens/gpu/cuda_statistics.h"
#include "masklens/ui/session_presenter.h"

#include <Eigen/Core>
#include <QMessageBox>
#include <QStringList>
#include <vtkVersion.h>

namespace masklens::ui {

QString about_text()
{
    QStringList lines;
    const BuildInfo& build = build_info();
    lines << QStringLiteral("MaskLens %1").arg(QString::fromStdString(std::string(build.version)));
    lines << QStringLiteral("Build: CUDA path %1, SIMD %2")
                 .arg(gpu::cuda_path_built() ? QStringLiteral("built") : QStringLiteral("not built"),
                      QString::fromStdString(std::string(build.simd)));
    lines << QStringLiteral("Qt %1, VTK %2, Eigen %3.%4.%5")
                 .arg(QString::fromLatin1(qVersion()), QString::fromLatin1(vtkVersion::GetVTKVersion()))
                 .arg(EIGEN_WORLD_VERSION)
                 .arg(EIGEN_MAJOR_VERSION)
                 .arg(EIGEN_MINOR_VERSION);
    if (gpu::cuda_path_built()) {
        const gpu::DeviceReport report = gpu::query_devices();
        lines << QStringLiteral("CUDA runtime %1, driver supports CUDA %2")
                     .arg(QString::fromStdString(gpu::cuda_version_text(report.runtime_version)),
                          QString::fromStdString(gpu::cuda_version_text(report.driver_version)));
    }
    lines << QStringLiteral("Compute device: %1").arg(QString::fromStdString(compute_device().label));
    return lines.join(QLatin1Char('\n'));
}

void show_about(QWidget* parent)
{
    QMessageBox box(QMessageBox::Information, QStringLiteral("About MaskLens"), about_text(), QMessageBox::Ok,
                    parent);
    box.setObjectName(QStringLiteral("aboutDialog"));
    box.exec();
}

} // namespace masklens::ui
