// What the app remembers across runs (QSettings, organisation "MaskLens",
// application "masklens"): window geometry and dock state, the splitters, the
// display controls, the view convention and the last folders; the recent
// pairs are kept by main_window_files.cpp. Help > Reset Settings forgets all.
//
// Written when the window closes, read once when it is built. Only the
// display side is remembered: evaluation settings (threshold, activation,
// empty rule) are not, so that a number never depends on a previous session.
#include "masklens/ui/main_window.h"

#include <QAction>
#include <QComboBox>
#include <QFileInfo>
#include <QSettings>
#include <QSlider>
#include <QSplitter>

namespace masklens::ui {

namespace {

// Keys, in one place.
constexpr auto kGeometry = "window/geometry";
constexpr auto kState = "window/state";
constexpr auto kMainSplitter = "window/mainSplitter";
constexpr auto kSideSplitter = "window/sidePanelSplitter";
constexpr auto kDisplayMode = "display/mode";
constexpr auto kTargetStyle = "display/targetStyle";
constexpr auto kTargetOpacity = "display/targetOpacity";
constexpr auto kPredictionStyle = "display/predictionStyle";
constexpr auto kPredictionOpacity = "display/predictionOpacity";
constexpr auto kNeurological = "display/neurological";

QString key(const char* text)
{
    return QString::fromLatin1(text);
}

QString folder_key(MainWindow::Folder folder)
{
    return folder == MainWindow::Folder::Export ? QStringLiteral("folders/export")
                                                : QStringLiteral("folders/open");
}

// Selects the entry whose data is `value` (the enum behind it), if any: an
// entry removed in a later version is skipped, not misread by position.
void restore_combo(QComboBox* combo, const QSettings& settings, const char* name)
{
    const QVariant value = settings.value(key(name));
    if (!combo || !value.isValid()) {
        return;
    }
    const int index = combo->findData(value.toInt());
    if (index >= 0) {
        combo->setCurrentIndex(index);
    }
}

void restore_slider(QSlider* slider, const QSettings& settings, const char* name)
{
    bool ok = false;
    const int value = settings.value(key(name)).toInt(&ok);
    if (slider && ok) {
        slider->setValue(value); // QSlider clamps to its range
    }
}

} // namespace

QString MainWindow::lastFolder(Folder folder) const
{
    const QString path = QSettings().value(folder_key(folder)).toString();
    return !path.isEmpty() && QFileInfo(path).isDir() ? path : QString();
}

void MainWindow::rememberFolder(Folder folder, const QString& file)
{
    if (!file.isEmpty()) {
        QSettings().setValue(folder_key(folder), QFileInfo(file).absolutePath());
    }
}

QString MainWindow::inLastFolder(Folder folder, const QString& name) const
{
    const QString dir = lastFolder(folder);
    return dir.isEmpty() ? name : dir + QLatin1Char('/') + name;
}

void MainWindow::saveSettings() const
{
    QSettings settings;
    settings.setValue(key(kGeometry), saveGeometry());
    settings.setValue(key(kState), saveState());
    if (const auto* splitter = qobject_cast<const QSplitter*>(centralWidget())) {
        settings.setValue(key(kMainSplitter), splitter->saveState());
    }
    if (const auto* side = findChild<QSplitter*>(QStringLiteral("sidePanelSplitter"))) {
        settings.setValue(key(kSideSplitter), side->saveState());
    }
    settings.setValue(key(kDisplayMode), mode_combo_->currentData());
    settings.setValue(key(kTargetStyle), target_style_->currentData());
    settings.setValue(key(kTargetOpacity), target_opacity_->value());
    settings.setValue(key(kPredictionStyle), prediction_style_->currentData());
    settings.setValue(key(kPredictionOpacity), prediction_opacity_->value());
    if (const auto* neurological = findChild<QAction*>(QStringLiteral("neurologicalAction"))) {
        settings.setValue(key(kNeurological), neurological->isChecked());
    }
}

void MainWindow::restoreSettings()
{
    const QSettings settings;
    if (settings.contains(key(kGeometry))) {
        restoreGeometry(settings.value(key(kGeometry)).toByteArray());
    }
    restoreState(settings.value(key(kState)).toByteArray());
    if (auto* splitter = qobject_cast<QSplitter*>(centralWidget());
        splitter && settings.contains(key(kMainSplitter))) {
        splitter->restoreState(settings.value(key(kMainSplitter)).toByteArray());
    }
    if (auto* side = findChild<QSplitter*>(QStringLiteral("sidePanelSplitter"));
        side && settings.contains(key(kSideSplitter))) {
        side->restoreState(settings.value(key(kSideSplitter)).toByteArray());
    }
    restore_combo(mode_combo_, settings, kDisplayMode);
    restore_combo(target_style_, settings, kTargetStyle);
    restore_slider(target_opacity_, settings, kTargetOpacity);
    restore_combo(prediction_style_, settings, kPredictionStyle);
    restore_slider(prediction_opacity_, settings, kPredictionOpacity);
    if (auto* neurological = findChild<QAction*>(QStringLiteral("neurologicalAction"));
        neurological && settings.contains(key(kNeurological))) {
        neurological->setChecked(settings.value(key(kNeurological)).toBool());
    }
}

} // namespace masklens::ui
