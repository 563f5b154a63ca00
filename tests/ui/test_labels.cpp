// Label colours: the ITK-SNAP / 3D Slicer parser (tests/data/labels, written
// by tests/generate_label_fixtures.py) with its errors naming file and line;
// the "All labels" display drawing each label in its table colour; the label
// choice driving the panel and the chart together (per-label Dice of the
// bundled label-map sample from numpy, in expected.json).
#include "masklens/engine/error.h"
#include "masklens/io/read_volume.h"
#include "masklens/ui/label_colours.h"
#include "masklens/ui/loss_panel.h"
#include "masklens/ui/main_window.h"
#include "masklens/ui/slice_chart.h"
#include "masklens/ui/slice_view.h"
#include "masklens/ui/surface_view.h"
#include "ui_test_support.h"

#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>
#include <QTableWidget>
#include <QtTest>

#include <array>

using namespace masklens;
using namespace masklens::ui;
using namespace masklens::ui::test;

namespace {

const QString kData = QStringLiteral(MASKLENS_TEST_DATA "/labels/");

QJsonObject expected()
{
    QFile file(kData + QStringLiteral("expected.json"));
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    return QJsonDocument::fromJson(file.readAll()).object();
}

std::shared_ptr<Volume> sample(const char* name)
{
    return std::make_shared<Volume>(
        io::read_volume(std::string(MASKLENS_SOURCE_DIR "/resources/samples/") + name));
}

} // namespace

class TestLabels : public QObject {
    Q_OBJECT
private slots:
    void itksnapFile();
    void slicerTable();
    void badFiles();
    void defaultsWithoutTable();
    void labelColoursDrawn();
    void labelChoiceDrivesPanelAndChart();
    void hiddenAndFadedLabels();
    void labelSurfacesIn3d();
};

void TestLabels::itksnapFile()
{
    const LabelColours colours = read_label_colours((kData + QStringLiteral("itksnap.txt")).toStdString());
    const QJsonArray entries = expected().value(QStringLiteral("entries")).toArray();
    QCOMPARE(colours.entries.size(), static_cast<std::size_t>(entries.size()));
    for (int i = 0; i < entries.size(); ++i) {
        const QJsonObject e = entries[i].toObject();
        const LabelStyle& s = colours.entries[static_cast<std::size_t>(i)];
        QCOMPARE(s.value, e.value(QStringLiteral("value")).toInteger());
        QCOMPARE(QString::fromStdString(s.name), e.value(QStringLiteral("name")).toString());
        const QJsonArray rgb = e.value(QStringLiteral("rgb")).toArray();
        QCOMPARE((Rgb{static_cast<std::uint8_t>(rgb[0].toInt()), static_cast<std::uint8_t>(rgb[1].toInt()),
                      static_cast<std::uint8_t>(rgb[2].toInt())}),
                 s.colour);
        QCOMPARE(s.opacity, e.value(QStringLiteral("opacity")).toDouble());
        QCOMPARE(s.visible, e.value(QStringLiteral("visible")).toBool());
    }
    QVERIFY(colours.find(2));
    QVERIFY(!colours.find(7));
}

void TestLabels::slicerTable()
{
    const LabelColours colours = read_label_colours((kData + QStringLiteral("slicer.ctbl")).toStdString());
    QCOMPARE(colours.entries.size(), std::size_t{4});
    const LabelStyle* kidney = colours.find(2);
    QVERIFY(kidney);
    QCOMPARE(kidney->name, std::string("right_kidney"));
    QCOMPARE(kidney->colour, (Rgb{20, 180, 60}));
    QCOMPARE(kidney->opacity, expected().value(QStringLiteral("slicer_opacity_2")).toDouble());
    QVERIFY(kidney->visible);
}

void TestLabels::badFiles()
{
    const QJsonObject bad = expected().value(QStringLiteral("bad")).toObject();
    QVERIFY(!bad.isEmpty());
    for (auto it = bad.begin(); it != bad.end(); ++it) {
        const std::string path = (kData + it.key()).toStdString();
        const int line = it.value().toObject().value(QStringLiteral("line")).toInt();
        const std::string words =
            it.value().toObject().value(QStringLiteral("words")).toString().toStdString();
        try {
            read_label_colours(path);
            QFAIL(qPrintable(it.key() + QStringLiteral(" was accepted")));
        } catch (const Error& error) {
            const std::string what = error.what();
            QVERIFY2(what.find(path) != std::string::npos, what.c_str());
            QVERIFY2(what.find(words) != std::string::npos, what.c_str());
            if (line > 0) {
                QVERIFY2(what.find("line " + std::to_string(line) + ":") != std::string::npos, what.c_str());
            }
        }
    }
    // Missing and binary files.
    QVERIFY_THROWS_EXCEPTION(Error, read_label_colours("/nonexistent/labels.txt"));
    QVERIFY_THROWS_EXCEPTION(Error,
                             read_label_colours(MASKLENS_SOURCE_DIR "/resources/samples/labels_pred.nii.gz"));
}

void TestLabels::defaultsWithoutTable()
{
    const LabelColours none;
    const LabelStyle two = label_style(none, 2);
    QCOMPARE(two.name, std::string("label 2"));
    QCOMPARE(two.colour, default_label_colour(2));
    QVERIFY(default_label_colour(1) != default_label_colour(2));
    QCOMPARE(default_label_colour(1), default_label_colour(15)); // 14 colours, cycling
    // The palette the header promises, from the published lists: Okabe & Ito
    // (2008) without black, in their order (orange, sky blue, bluish green,
    // yellow, blue, vermillion, reddish purple), then Paul Tol's "muted"
    // scheme (indigo, cyan, teal, green, olive, sand, rose). Label 1 takes the
    // first colour; label 0 (background) none.
    const std::array<Rgb, 14> published{Rgb{0xE6, 0x9F, 0x00}, Rgb{0x56, 0xB4, 0xE9}, Rgb{0x00, 0x9E, 0x73},
                                        Rgb{0xF0, 0xE4, 0x42}, Rgb{0x00, 0x72, 0xB2}, Rgb{0xD5, 0x5E, 0x00},
                                        Rgb{0xCC, 0x79, 0xA7}, Rgb{0x33, 0x22, 0x88}, Rgb{0x88, 0xCC, 0xEE},
                                        Rgb{0x44, 0xAA, 0x99}, Rgb{0x11, 0x77, 0x33}, Rgb{0x99, 0x99, 0x33},
                                        Rgb{0xDD, 0xCC, 0x77}, Rgb{0xCC, 0x66, 0x77}};
    for (std::int64_t value = 1; value <= 30; ++value) {
        QCOMPARE(default_label_colour(value), published[static_cast<std::size_t>((value - 1) % 14)]);
    }
    QCOMPARE(default_label_colour(0), (Rgb{0, 0, 0}));
}

void TestLabels::labelColoursDrawn()
{
    SessionPresenter presenter;
    presenter.setSynchronous(true);
    presenter.setVolumes(sample("labels_pred.nii.gz"), sample("labels_target.nii.gz"));
    QVERIFY(presenter.hasData());
    presenter.setLabelColours(read_label_colours((kData + QStringLiteral("slicer.ctbl")).toStdString()));
    LayerSettings layers = presenter.layers();
    layers.mode = DisplayMode::Labels;
    presenter.setLayers(layers);
    // A target voxel of label 1 inside label 1's prediction too (not on an outline):
    // find one on the middle slice whose 3 x 3 neighbourhood is label 1 in both.
    const Volume& t = *presenter.target();
    const Volume& p = *presenter.prediction();
    const Shape s = t.shape();
    const std::int64_t d = s.d / 2;
    std::optional<Voxel> inside;
    for (std::int64_t h = 1; h + 1 < s.h && !inside; ++h) {
        for (std::int64_t w = 1; w + 1 < s.w && !inside; ++w) {
            bool all = true;
            for (int dh = -1; dh <= 1; ++dh) {
                for (int dw = -1; dw <= 1; ++dw) {
                    const Voxel v{d, h + dh, w + dw};
                    all = all && element_value(t, element_index(s, 0, 0, v)) == 1 &&
                          element_value(p, element_index(s, 0, 0, v)) == 1;
                }
            }
            if (all) {
                inside = Voxel{d, h, w};
            }
        }
    }
    QVERIFY(inside);
    presenter.setCursor({d, 0, 0}); // crosshair away
    SliceView view(&presenter, ViewAxis::Axial);
    view.resize(400, 400);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.requestRender();
    QCoreApplication::processEvents();
    const QImage image = view.grabFramebuffer();
    const QPointF at = view.voxelToWidget(*inside) * view.devicePixelRatioF();
    const QRgb pixel =
        image.pixel(static_cast<int>(std::lround(at.x())), static_cast<int>(std::lround(at.y())));
    // The table's liver colour (200, 30, 40) at opacity 255 / 255 over black.
    QVERIFY2(
        std::abs(qRed(pixel) - 200) <= 2 && std::abs(qGreen(pixel) - 30) <= 2 &&
            std::abs(qBlue(pixel) - 40) <= 2,
        qPrintable(QStringLiteral("rgb(%1, %2, %3)").arg(qRed(pixel)).arg(qGreen(pixel)).arg(qBlue(pixel))));
}

void TestLabels::labelChoiceDrivesPanelAndChart()
{
    const QJsonObject reference = expected().value(QStringLiteral("labels_sample")).toObject();
    MainWindow window;
    window.presenter()->setSynchronous(true);
    window.presenter()->setDistancesEnabled(false);
    window.presenter()->setVolumes(sample("labels_pred.nii.gz"), sample("labels_target.nii.gz"));
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto* combo = window.findChild<QComboBox*>(QStringLiteral("labelCombo"));
    auto* panel = window.findChild<LossPanel*>();
    auto* chart = window.findChild<SliceChart*>();
    QVERIFY(combo && panel && chart);
    QCOMPARE(combo->itemText(0), QStringLiteral("All labels"));
    for (const int label : {2, 3, 1}) {
        const int entry = combo->findText(QString::number(label), Qt::MatchStartsWith);
        QVERIFY(entry > 0);
        combo->setCurrentIndex(entry);
        QCOMPARE(window.presenter()->currentLabel(), std::optional<std::int64_t>(label));
        const double dice =
            reference.value(QString::number(label)).toObject().value(QStringLiteral("dice")).toDouble();
        // The panel shows this label's Dice (numpy's), not the foreground's.
        const double shown = panel->sampleText(Metric::Dice).toDouble();
        QVERIFY2(std::abs(shown - dice) <= 1e-3,
                 qPrintable(QStringLiteral("label %1: panel %2, numpy %3").arg(label).arg(shown).arg(dice)));
        // The chart shows its per-slice Dice (numpy's, NaN slices skipped by both).
        const QJsonArray slices =
            reference.value(QString::number(label)).toObject().value(QStringLiteral("slice_dice")).toArray();
        const QList<QPointF> points = chart->curvePoints(0);
        int matched = 0;
        for (const QPointF& point : points) {
            const int slice = static_cast<int>(std::lround(point.x()));
            QVERIFY(slice >= 0 && slice < slices.size());
            QVERIFY2(!slices[slice].isNull(), "a chart point where numpy has no value");
            QVERIFY2(std::abs(point.y() - slices[slice].toDouble()) <= 1e-6,
                     qPrintable(QStringLiteral("label %1 slice %2").arg(label).arg(slice)));
            ++matched;
        }
        QVERIFY(matched > 0);
    }
    // "All labels": the overall values again.
    combo->setCurrentIndex(0);
    QCOMPARE(window.presenter()->currentLabel(), std::optional<std::int64_t>());
    // The label table names and colours its rows as the file says (slicer.ctbl:
    // label 2 is right_kidney in (20, 180, 60)).
    window.presenter()->setLabelColours(
        read_label_colours((kData + QStringLiteral("slicer.ctbl")).toStdString()));
    auto* table = window.findChild<QTableWidget*>(QStringLiteral("labelTable"));
    QVERIFY(table && table->rowCount() >= 2);
    QTableWidgetItem* kidney = nullptr;
    for (int row = 0; row < table->rowCount(); ++row) {
        if (table->item(row, 0)->text().startsWith(QStringLiteral("2 "))) {
            kidney = table->item(row, 0);
        }
    }
    QVERIFY(kidney);
    QCOMPARE(kidney->text(), QStringLiteral("2 · right_kidney"));
    QCOMPARE(kidney->icon().pixmap(12, 12).toImage().pixelColor(6, 6), QColor(20, 180, 60));
}

void TestLabels::hiddenAndFadedLabels()
{
    // One label-1 voxel run over an image-free pair: compose_slice directly.
    const Shape shape{1, 1, 1, 1, 4, 2};
    auto target = make_u8("t", shape, {1, 1, 2, 0});
    auto prediction = make_u8("p", shape, {1, 1, 2, 0});
    SessionPresenter presenter;
    presenter.setSynchronous(true);
    presenter.setVolumes(prediction, target);
    presenter.setLabelColours(read_label_colours((kData + QStringLiteral("slicer.ctbl")).toStdString()));
    LayerSettings layers = presenter.layers();
    layers.mode = DisplayMode::Labels;
    layers.prediction_style = LayerStyle::Hidden; // fills only
    const auto pixel = [&](int x) {
        const std::vector<LabelStyle> styles = presenter.labelStyles();
        const SliceImage image = compose_slice(*prediction, *target, presenter.pairView(), ViewAxis::Axial, 0,
                                               layers, nullptr, &styles);
        const std::uint8_t* p = &image.rgba[static_cast<std::size_t>(x) * 4];
        return Rgb{p[0], p[1], p[2]};
    };
    QCOMPARE(pixel(0), (Rgb{200, 30, 40}));
    // Label 2 at 128 / 255 over black: 20, 180, 60 scaled by 0.50196 -> 10, 90, 30.
    QCOMPARE(pixel(2), (Rgb{10, 90, 30}));
    presenter.setLabelDisplay(1, false, 1.0);
    QCOMPARE(pixel(0), (Rgb{0, 0, 0}));
    presenter.setLabelDisplay(1, true, 0.5);
    // 200 * 0.5 = 100, 30 * 0.5 = 15, 40 * 0.5 = 20.
    QCOMPARE(pixel(0), (Rgb{100, 15, 20}));
    QCOMPARE(pixel(3), (Rgb{0, 0, 0}));
}

// "All labels" in 3D: each label's surface in its colour-table colour (the
// slicer.ctbl colours, not ours), named in the legend; one label shown at a
// time, its pixels take its colour's hue and no other label's.
void TestLabels::labelSurfacesIn3d()
{
    SessionPresenter presenter;
    presenter.setSynchronous(true);
    presenter.setVolumes(sample("labels_pred.nii.gz"), sample("labels_target.nii.gz"));
    QVERIFY(presenter.hasData());
    presenter.setLabelColours(read_label_colours((kData + QStringLiteral("slicer.ctbl")).toStdString()));
    LayerSettings layers = presenter.layers();
    layers.mode = DisplayMode::Labels;
    presenter.setLayers(layers);
    presenter.setCursor({0, 0, 0});
    SurfaceView view(&presenter);
    view.resize(400, 400);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));
    view.waitForSurfaces();
    QCOMPARE(view.scene().meshes().labels.size(), std::size_t{3});
    QVERIFY(view.scene().labelSurfacesShown());
    view.scene().setSurfaceStyle(SurfaceLayer::Target, SurfaceStyle{false, 1.0});
    view.scene().setDecorationsVisible(true);
    std::vector<std::string> names;
    for (const auto& [name, colour] : view.scene().legendEntries()) {
        names.push_back(name);
    }
    QCOMPARE(names, (std::vector<std::string>{"liver", "right_kidney", "tumour"}));
    view.scene().setDecorationsVisible(false);
    // Hue classes of the table's colours, shaded: liver (200, 30, 40) red,
    // right_kidney (20, 180, 60) green, tumour (30, 60, 220) blue.
    const auto hue = [](QRgb p) {
        const int r = qRed(p), g = qGreen(p), b = qBlue(p);
        if (std::max({r, g, b}) < 45) {
            return -1;
        }
        if (r > g + 40 && r > b + 40) {
            return 0;
        }
        if (g > r + 40 && g > b + 40) {
            return 1;
        }
        if (b > r + 40 && b > g + 40) {
            return 2;
        }
        return -1;
    };
    for (int shown = 0; shown < 3; ++shown) {
        for (int label = 1; label <= 3; ++label) {
            presenter.setLabelDisplay(label, label == shown + 1, label == 2 ? 128.0 / 255.0 : 1.0);
        }
        view.waitForSurfaces();
        QCOMPARE(view.scene().meshes().labels.size(), std::size_t{1});
        view.requestRender();
        QCoreApplication::processEvents();
        const QImage image = view.grabFramebuffer().convertToFormat(QImage::Format_RGB32);
        std::array<int, 3> counts{0, 0, 0};
        for (int y = 0; y < image.height(); ++y) {
            for (int x = 0; x < image.width(); ++x) {
                const int h = hue(image.pixel(x, y));
                if (h >= 0) {
                    ++counts[static_cast<std::size_t>(h)];
                }
            }
        }
        const QString text = QStringLiteral("label %1: red %2 green %3 blue %4")
                                 .arg(shown + 1)
                                 .arg(counts[0])
                                 .arg(counts[1])
                                 .arg(counts[2]);
        QVERIFY2(counts[static_cast<std::size_t>(shown)] >= 50, qPrintable(text));
        QVERIFY2(counts[static_cast<std::size_t>((shown + 1) % 3)] == 0 &&
                     counts[static_cast<std::size_t>((shown + 2) % 3)] == 0,
                 qPrintable(text));
    }
    // Back to the errors: the label surfaces leave.
    layers.mode = DisplayMode::Errors;
    presenter.setLayers(layers);
    view.waitForSurfaces();
    QVERIFY(!view.scene().labelSurfacesShown());
    QCOMPARE(view.scene().comparisonSurfaceCount(), 0);
}

int main(int argc, char** argv)
{
    VtkHostWidget::setDefaultSurfaceFormat();
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true);
    TestLabels test;
    return QTest::qExec(&test, argc, argv);
}

#include "test_labels.moc"
