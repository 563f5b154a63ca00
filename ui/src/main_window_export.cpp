// MainWindow's exports: the CSV of the evaluation and PNG screenshots.
#include "masklens/ui/main_window.h"

#include "main_window_internal.h"
#include "masklens/engine/build_info.h"
#include "masklens/engine/error.h"
#include "masklens/engine/folder.h"
#include "masklens/engine/report.h"

#include <cmath>
#include <cstring>

#include <QFileInfo>
#include <QSaveFile>
#include <QStatusBar>

#include <sstream>

namespace masklens::ui {

namespace {

// `values` with `extra`'s values appended (NaN where `extra` has no row).
void append_values(MetricValues& values, const MetricValues* extra, std::size_t count)
{
    for (std::size_t m = 0; m < count; ++m) {
        values.push_back(extra && m < extra->size() ? (*extra)[m] : std::nan(""));
    }
}

template <class T> const T* row_at(const std::vector<T>& rows, std::size_t index)
{
    return index < rows.size() ? &rows[index] : nullptr;
}

} // namespace

Evaluation with_distance_columns(const Evaluation& evaluation, const Evaluation* distances)
{
    Evaluation merged = evaluation;
    if (!distances) {
        return merged;
    }
    const std::size_t count = distances->metrics.size();
    merged.metrics.insert(merged.metrics.end(), distances->metrics.begin(), distances->metrics.end());
    append_values(merged.batch, &distances->batch, count);
    for (std::size_t l = 0; l < merged.labels.size(); ++l) {
        const BatchLabelResult* other = row_at(distances->labels, l);
        append_values(merged.labels[l].values,
                      other && other->label == merged.labels[l].label ? &other->values : nullptr, count);
    }
    for (std::size_t s = 0; s < merged.samples.size(); ++s) {
        SampleResult& sample = merged.samples[s];
        const SampleResult* other = row_at(distances->samples, s);
        append_values(sample.values, other ? &other->values : nullptr, count);
        for (std::size_t k = 0; k < sample.slices.size(); ++k) {
            append_values(sample.slices[k], other ? row_at(other->slices, k) : nullptr, count);
        }
        for (std::size_t l = 0; l < sample.labels.size(); ++l) {
            LabelResult& label = sample.labels[l];
            const LabelResult* other_label = other ? row_at(other->labels, l) : nullptr;
            if (other_label && other_label->label != label.label) {
                other_label = nullptr;
            }
            append_values(label.values, other_label ? &other_label->values : nullptr, count);
            for (std::size_t k = 0; k < label.slices.size(); ++k) {
                append_values(label.slices[k], other_label ? row_at(other_label->slices, k) : nullptr, count);
            }
        }
    }
    return merged;
}

QString default_export_name(const QString& prediction_path, const QString& target_path, const QString& suffix)
{
    // "organ_pred.nii.gz" -> "organ_pred"; with the target's name when it differs.
    // The case's name as folder runs derive it (the engine's list of extensions).
    const auto stem = [](const QString& path) {
        const QString file = QFileInfo(path).fileName();
        const auto stripped = strip_supported_extension(file.toStdString());
        return stripped ? QString::fromStdString(*stripped) : file;
    };
    QString name = stem(prediction_path);
    const QString target = stem(target_path);
    if (name.isEmpty()) {
        name = QStringLiteral("masklens");
    } else if (!target.isEmpty() && target != name) {
        name += QStringLiteral("_vs_") + target;
    }
    return name + suffix;
}

// Screenshots carry the code that drew them, as PNG text chunks under the PNG
// specification's registered keywords: "Software" (name and version) and
// "Comment" (version and build options).
bool save_png_atomically(const QImage& image, const QString& path)
{
    QImage tagged = image;
    const BuildInfo& build = build_info();
    tagged.setText(QStringLiteral("Software"),
                   QStringLiteral("MaskLens %1").arg(QString::fromStdString(std::string(build.version))));
    tagged.setText(QStringLiteral("Comment"), QString::fromStdString(build_info_text()));
    QSaveFile file(path);
    return file.open(QIODevice::WriteOnly) && tagged.save(&file, "PNG") && file.commit();
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
        // Every computed metric (the distance pass's too, once done), then
        // the settings as constant columns, so each row stands alone.
        const Evaluation* distances =
            presenter_->distanceState() == DistanceState::Ready ? presenter_->distanceEvaluation() : nullptr;
        const EvaluationSettings& settings = presenter_->settings();
        const Geometry& geometry = presenter_->target()->geometry();
        const std::vector<CsvConstant> constants = {
            {"threshold", format_number(settings.threshold)},
            {"activation", std::string(activation_name(settings.activation))},
            {"decision", std::string(decision_name(settings.decision))},
            {"smooth", format_number(settings.smooth)},
            {"empty", std::string(empty_policy_name(settings.empty))},
            {"spacing_x_mm", format_number(geometry.spacing[0])},
            {"spacing_y_mm", format_number(geometry.spacing[1])},
            {"spacing_z_mm", format_number(geometry.spacing[2])},
        };
        std::ostringstream out;
        write_csv(out, with_distance_columns(*evaluation, distances), constants);
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

} // namespace masklens::ui
