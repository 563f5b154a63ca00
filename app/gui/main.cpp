// masklens: the desktop app. `masklens` opens the bundled sample,
// `masklens PRED TARGET` opens a pair, `masklens --target T P1 P2...` compares
// several predictions against one target, `--screenshot FILE` renders the window
// after loading, saves a PNG and exits; `--results FILE` shows the per-case
// table of a folder evaluation.
#include "masklens/engine/build_info.h"
#include "masklens/engine/decision.h"
#include "masklens/engine/error.h"
#include "masklens/io/file_mapping.h"
#include "masklens/ui/main_window.h"
#include "masklens/ui/results_panel.h"
#include "masklens/ui/vtk_host_widget.h"

#include <QApplication>
#include <QCheckBox>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QTimer>

#include <memory>

#include <cstdio>
#include <exception>
#include <string_view>

namespace {

struct Options {
    QCommandLineOption screenshot{QStringLiteral("screenshot"),
                                  QStringLiteral("Render the window after loading, save it as PNG and exit."),
                                  QStringLiteral("FILE")};
    QCommandLineOption threshold{QStringLiteral("threshold"),
                                 QStringLiteral("Hard-metric threshold (default 0.5)."), QStringLiteral("T")};
    QCommandLineOption logits{QStringLiteral("logits"),
                              QStringLiteral("The prediction holds logits (--activation sigmoid).")};
    QCommandLineOption activation{QStringLiteral("activation"),
                                  QStringLiteral("none, sigmoid or softmax (over the channels)."),
                                  QStringLiteral("A")};
    QCommandLineOption decision{QStringLiteral("decision"),
                                QStringLiteral("threshold or argmax (default: argmax with softmax)."),
                                QStringLiteral("D")};
    QCommandLineOption size{QStringLiteral("size"), QStringLiteral("Window size, e.g. 1400x900."),
                            QStringLiteral("WxH")};
    QCommandLineOption distance_colours{
        QStringLiteral("distance-colours"),
        QStringLiteral("3D view: colour the prediction surface by its distance to the target (mm).")};
    QCommandLineOption nsd_tolerance{QStringLiteral("nsd-tolerance"),
                                     QStringLiteral("Normalized surface Dice tolerance in mm (default 1)."),
                                     QStringLiteral("MM")};
    QCommandLineOption target{
        QStringLiteral("target"),
        QStringLiteral("Compare several predictions against TARGET: the positional arguments are then "
                       "predictions (P1 P2 ...), shown side by side with a comparison table."),
        QStringLiteral("TARGET")};
    QCommandLineOption image{
        QStringLiteral("image"),
        QStringLiteral("Show IMG (CT, MR, ...; any supported format) under the masks; its grid and geometry "
                       "must match the target's. Window/level presets in View > Window/Level; Shift + drag "
                       "in a slice view adjusts them."),
        QStringLiteral("IMG")};
    QCommandLineOption labels_file{
        QStringLiteral("labels-file"),
        QStringLiteral("Label names and colours: an ITK-SNAP label description file or a 3D Slicer colour "
                       "table (used by the label chooser and the 'All labels' display)."),
        QStringLiteral("FILE")};
    QCommandLineOption results{
        QStringLiteral("results"),
        QStringLiteral("Show the per-case table of a folder evaluation (masklens-cli evaluate-folder "
                       "--format json); double-click a case to open it. Without PRED TARGET the first "
                       "evaluated case is opened."),
        QStringLiteral("FILE")};
};

Options configure(QCommandLineParser& parser)
{
    Options options;
    parser.setApplicationDescription(
        QStringLiteral("MaskLens: see a segmentation prediction against its target, slice by slice, with the "
                       "engine's losses.\nWithout files, opens the bundled sample and its CT-like image "
                       "(resources/samples, or $MASKLENS_RESOURCES/samples)."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions({options.screenshot, options.threshold, options.logits, options.activation,
                       options.decision, options.size, options.distance_colours, options.nsd_tolerance,
                       options.target, options.image, options.labels_file, options.results});
    parser.addPositionalArgument(QStringLiteral("PRED"),
                                 QStringLiteral("Prediction file (with --target: one or more predictions)"),
                                 QStringLiteral("[PRED"));
    parser.addPositionalArgument(QStringLiteral("TARGET"), QStringLiteral("Target file (not with --target)"),
                                 QStringLiteral("TARGET]"));
    return options;
}

} // namespace

int main(int argc, char** argv)
{
    // VTK 9.1 loads OpenGL through GLEW, which needs GLX: use xcb on Wayland.
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM") && !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")) {
        qputenv("QT_QPA_PLATFORM", "xcb");
    }
    // --help and --version need no display: answer them without a GUI application.
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "-h" || arg == "--help" || arg == "-?" || arg == "--help-all" || arg == "-v" ||
            arg == "--version") {
            QCoreApplication core(argc, argv);
            QCoreApplication::setApplicationVersion(
                QString::fromStdString(std::string(masklens::build_info().version)));
            QCommandLineParser parser;
            configure(parser);
            parser.process(core); // prints and exits
            return 0;
        }
    }
    // A .nii.gz is inflated from its mapped pages, not from a fresh copy of
    // the file; voxels are always read into memory of the app's own, as it
    // keeps volumes open for a long time (file_mapping.h).
    masklens::io::set_file_mapping(masklens::io::FileMapping::CompressedInputs);
    masklens::ui::VtkHostWidget::setDefaultSurfaceFormat();
    QApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("MaskLens"));
    QCoreApplication::setApplicationName(QStringLiteral("masklens"));
    QCoreApplication::setApplicationVersion(
        QString::fromStdString(std::string(masklens::build_info().version)));

    QCommandLineParser parser;
    const Options options = configure(parser);
    const QCommandLineOption& screenshot = options.screenshot;
    const QCommandLineOption& threshold = options.threshold;
    const QCommandLineOption& logits = options.logits;
    const QCommandLineOption& size = options.size;
    parser.process(app);

    const QStringList files = parser.positionalArguments();
    const bool compare = parser.isSet(options.target);
    if (compare && files.isEmpty()) {
        std::fprintf(stderr, "error: --target needs at least one prediction: --target T P1 [P2 ...]\n");
        return 2;
    }
    // One file ("Open with MaskLens" from a file manager): the app asks for its target.
    const bool ask_target = !compare && files.size() == 1;
    if (!compare && files.size() > 2) {
        std::fprintf(stderr,
                     "error: give PRED and TARGET, or PRED alone (the app asks for its target), or neither, "
                     "or --target T P1 P2 ... (see --help)\n");
        return 2;
    }
    if (parser.isSet(options.image) && files.isEmpty()) {
        std::fprintf(stderr,
                     "error: --image needs PRED and TARGET (or --target T P1 ...): the image is shown "
                     "under their masks\n");
        return 2;
    }
    if (ask_target && parser.isSet(options.screenshot)) {
        std::fprintf(stderr, "error: --screenshot needs both PRED and TARGET\n");
        return 2;
    }
    QString prediction;
    QString target;
    QString image = parser.value(options.image);
    if (compare) {
        prediction = files.front();
        target = parser.value(options.target);
    } else if (files.size() == 2) {
        prediction = files[0];
        target = files[1];
    } else if (ask_target) {
        prediction = files[0];
    } else {
        const QString samples = masklens::ui::resource_dir() + QStringLiteral("/samples/");
        prediction = samples + QStringLiteral("organ_pred.nii.gz");
        target = samples + QStringLiteral("organ_target.nii.gz");
        if (image.isEmpty() && QFileInfo::exists(samples + QStringLiteral("organ_ct.nii.gz"))) {
            image = samples + QStringLiteral("organ_ct.nii.gz");
        }
    }

    try {
        masklens::ui::MainWindow window;
        if (parser.isSet(size)) {
            const QStringList parts = parser.value(size).split(QLatin1Char('x'));
            if (parts.size() == 2) {
                window.resize(parts[0].toInt(), parts[1].toInt());
            }
        }
        if (parser.isSet(threshold)) {
            bool ok = false;
            const double value = parser.value(threshold).toDouble(&ok);
            if (!ok) {
                std::fprintf(stderr, "error: --threshold needs a number\n");
                return 2;
            }
            window.presenter()->setThreshold(value);
        }
        if (parser.isSet(logits)) {
            window.presenter()->setLogits(true);
        }
        try {
            // The CLI's names and errors (decision.h).
            if (parser.isSet(options.activation)) {
                window.presenter()->setActivation(
                    masklens::parse_activation(parser.value(options.activation).toStdString()));
            }
            if (parser.isSet(options.decision)) {
                window.presenter()->setDecision(
                    masklens::parse_decision(parser.value(options.decision).toStdString()));
            }
        } catch (const masklens::Error& error) {
            std::fprintf(stderr, "error: %s\n", error.what());
            return 2;
        }
        if (parser.isSet(options.nsd_tolerance)) {
            bool ok = false;
            const double value = parser.value(options.nsd_tolerance).toDouble(&ok);
            if (!ok || value < 0) {
                std::fprintf(stderr, "error: --nsd-tolerance needs a non-negative number (mm)\n");
                return 2;
            }
            window.presenter()->setNsdTolerance(value);
        }
        if (parser.isSet(options.labels_file)) {
            try {
                window.presenter()->setLabelColours(
                    masklens::ui::read_label_colours(parser.value(options.labels_file).toStdString()));
            } catch (const masklens::Error& error) {
                std::fprintf(stderr, "error: %s\n", error.what());
                return 1;
            }
        }
        if (parser.isSet(options.distance_colours)) {
            window.distanceColourCheck()->setChecked(true);
        }

        const bool batch = parser.isSet(screenshot);
        int exit_code = 0;
        if (batch) {
            const QString output = parser.value(screenshot);
            window.setErrorReporter([&](const QString& text, const QString& details) {
                std::fprintf(stderr, "error: %s\n%s\n", qPrintable(text), qPrintable(details));
                exit_code = 1;
                QCoreApplication::exit(1);
            });
            QObject::connect(
                window.presenter(), &masklens::ui::SessionPresenter::datasetChanged, &window,
                [&window, output, &exit_code]() {
                    // Wait for the background work (distance pass, 3D surfaces; at most
                    // 120 s), then let the views render once before grabbing.
                    auto* poll = new QTimer(&window);
                    auto waited = std::make_shared<int>(0);
                    QObject::connect(
                        poll, &QTimer::timeout, &window, [&window, output, &exit_code, poll, waited]() {
                            if (!window.isSettled() && ++*waited < 2400) {
                                return;
                            }
                            poll->stop();
                            QTimer::singleShot(300, &window, [&window, output, &exit_code]() {
                                if (!window.saveScreenshot(output)) {
                                    std::fprintf(stderr, "error: cannot write %s\n", qPrintable(output));
                                    exit_code = 1;
                                }
                                QCoreApplication::exit(exit_code);
                            });
                        });
                    poll->start(50);
                });
        }
        window.show();
        if (parser.isSet(options.results)) {
            if (!window.openResults(parser.value(options.results))) {
                if (batch) {
                    return 1;
                }
            } else if (files.isEmpty() && !compare) {
                // Open the first case that was evaluated (in file order); none: open nothing.
                prediction.clear();
                target.clear();
                for (const masklens::ui::ResultsCase& entry : window.resultsPanel()->results().cases) {
                    if (entry.ok) {
                        prediction = entry.prediction_path;
                        target = entry.target_path;
                        break;
                    }
                }
                if (prediction.isEmpty()) {
                    if (batch) {
                        std::fprintf(stderr, "error: the results hold no evaluated case to show\n");
                        return 1;
                    }
                    return app.exec();
                }
            }
        }
        if (ask_target) {
            if (!QFileInfo::exists(prediction)) {
                window.showError(QStringLiteral("File not found."),
                                 prediction + QStringLiteral(": no such file"));
            } else {
                if (!image.isEmpty()) {
                    window.presenter()->openImage(image); // checked once the target is chosen
                }
                window.openAskingTarget(prediction);
            }
            return app.exec();
        }
        QStringList needed{prediction, target};
        if (compare) {
            needed = files;
            needed << target;
        }
        if (!image.isEmpty()) {
            needed << image;
        }
        QString missing;
        for (const QString& path : needed) {
            if (missing.isEmpty() && !QFileInfo::exists(path)) {
                missing = path;
            }
        }
        if (!missing.isEmpty()) {
            window.showError(QStringLiteral("File not found."), missing + QStringLiteral(": no such file"));
            if (batch) {
                return 1;
            }
        } else if (compare) {
            window.openComparison(target, files);
        } else {
            window.openFiles(prediction, target);
        }
        if (missing.isEmpty() && !image.isEmpty()) {
            // Read beside the pair; checked against the target once both are there.
            window.presenter()->openImage(image);
        }
        const int rc = app.exec();
        return batch ? exit_code : rc;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "error: %s\n", error.what());
        return 1;
    }
}
