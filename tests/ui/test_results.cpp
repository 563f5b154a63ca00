// The folder-results table (masklens --results FILE): parsing a results JSON
// written beside two tiny .npy pairs, numeric sorting with nulls last,
// "Worst first" per metric direction, activating a case loads its pair in the
// real main window, and malformed files are reported without changing state.
#include "masklens/ui/case_image.h"
#include "masklens/ui/main_window.h"
#include "masklens/ui/results_panel.h"
#include "masklens/ui/vtk_host_widget.h"
#include "npy_writer.h"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QHeaderView>
#include <QPushButton>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <memory>

using namespace masklens::ui;

namespace {

using masklens::testing::npy_header;

// A 2x2 float32 array.
QByteArray npy_2x2(float a, float b, float c, float d)
{
    const float values[4] = {a, b, c, d};
    return npy_header("<f4", "(2, 2)") + QByteArray(reinterpret_cast<const char*>(values), sizeof(values));
}

bool write_file(const QString& path, const QByteArray& bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly) && file.write(bytes) == bytes.size();
}

// Case ids in the order `column` shows them in the (sorted) table.
QStringList shown_cases(const ResultsPanel& panel)
{
    QStringList ids;
    for (int row = 0; row < panel.proxy()->rowCount(); ++row) {
        ids.append(panel.caseAt(row).id);
    }
    return ids;
}

} // namespace

class TestResults : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();
    void parsesResults();
    void sortsNumericallyWithNullsLast();
    void worstFirstFollowsMetricDirection();
    void activatingRowLoadsPair();
    void missingCaseFileShowsError();
    void malformedFileKeepsState();
    void caseImageFollowsTheNamingRule();
    void imagesFolderShowsEachCasesImage();

private:
    QString results_path_;
    QString pred_dir_;
    QString target_dir_;
    std::unique_ptr<QTemporaryDir> dir_;
    std::unique_ptr<MainWindow> window_;
    QStringList errors_;
};

void TestResults::initTestCase()
{
    dir_ = std::make_unique<QTemporaryDir>();
    QVERIFY(dir_->isValid());
    const QDir root(dir_->path());
    QVERIFY(root.mkpath(QStringLiteral("pred")));
    QVERIFY(root.mkpath(QStringLiteral("target")));
    pred_dir_ = root.filePath(QStringLiteral("pred"));
    target_dir_ = root.filePath(QStringLiteral("target"));
    QVERIFY(write_file(pred_dir_ + "/a.npy", npy_2x2(0.9f, 0.8f, 0.1f, 0.0f)));
    QVERIFY(write_file(target_dir_ + "/a.npy", npy_2x2(1, 1, 0, 0)));
    QVERIFY(write_file(pred_dir_ + "/b.npy", npy_2x2(0.9f, 0.2f, 0.7f, 0.0f)));
    QVERIFY(write_file(target_dir_ + "/b.npy", npy_2x2(1, 0, 0, 1)));
    // prediction_dir relative to the results file, target_dir absolute.
    // hd95 9 vs 12.5 sorts differently as text ("12.5" < "9") and as numbers.
    const QByteArray json = R"({
  "prediction_dir": "pred",
  "target_dir": ")" + target_dir_.toUtf8() +
                            R"(",
  "metrics": ["dice", "hd95", "mse"],
  "summary": {},
  "unpaired": {"predictions": [], "targets": [{"file": "x.npy", "case_id": "x", "reason": "no prediction"}]},
  "cases": [
    {"case": "case2", "prediction": "a.npy", "target": "a.npy", "status": "ok",
     "values": {"dice": 0.9, "hd95": 9, "mse": 0.1}},
    {"case": "case10", "prediction": "b.npy", "target": "b.npy", "status": "ok",
     "values": {"dice": 0.4, "hd95": null, "mse": 0.3},
     "undefined": {"hd95": "infinite: exactly one mask is empty"}},
    {"case": "case3", "prediction": "gone.npy", "target": "gone.npy", "status": "ok",
     "values": {"dice": null, "hd95": 12.5, "mse": 0.2}},
    {"case": "case4", "prediction": "bad.npy", "target": "bad.npy", "status": "error",
     "error": "cannot read bad.npy: truncated header"}
  ]
})";
    results_path_ = root.filePath(QStringLiteral("results.json"));
    QVERIFY(write_file(results_path_, json));
}

void TestResults::init()
{
    errors_.clear();
    window_ = std::make_unique<MainWindow>();
    window_->setErrorReporter(
        [this](const QString& text, const QString& details) { errors_.append(text + "\n" + details); });
    window_->resize(1300, 900);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
}

void TestResults::cleanup()
{
    if (window_) {
        window_->presenter()->waitForIdle();
        window_->presenter()->waitForDistances();
    }
    window_.reset();
}

void TestResults::parsesResults()
{
    QString error;
    const std::optional<ResultsData> data = read_results(results_path_, &error);
    QVERIFY2(data, qPrintable(error));
    QCOMPARE(data->metrics, QStringList({"dice", "hd95", "mse"}));
    QCOMPARE(data->cases.size(), std::size_t(4));
    QCOMPARE(data->failed(), 1);
    QCOMPARE(data->unpaired, 1);
    const ResultsCase& first = data->cases[0];
    QCOMPARE(first.id, QString("case2"));
    QVERIFY(first.ok);
    QCOMPARE(QFileInfo(first.prediction_path).canonicalFilePath(),
             QFileInfo(pred_dir_ + "/a.npy").canonicalFilePath());
    QCOMPARE(QFileInfo(first.target_path).canonicalFilePath(),
             QFileInfo(target_dir_ + "/a.npy").canonicalFilePath());
    QCOMPARE(first.values[0], 0.9);
    QCOMPARE(first.values[1], 9.0);
    QVERIFY(std::isnan(data->cases[1].values[1]));
    QVERIFY(!data->cases[3].ok);
    QCOMPARE(data->cases[3].error, QString("cannot read bad.npy: truncated header"));

    // masklens-cli writes the file as the folder was given ("pred/a.npy"):
    // found beside the results file too.
    const QByteArray cli_form = R"({"prediction_dir": "pred", "target_dir": "target", "metrics": ["dice"],
        "cases": [{"case": "a", "prediction": "pred/a.npy", "target": "target/a.npy", "status": "ok",
                   "values": {"dice": 1}}]})";
    const std::optional<ResultsData> cli = parse_results(cli_form, results_path_, &error);
    QVERIFY2(cli, qPrintable(error));
    QCOMPARE(QFileInfo(cli->cases[0].prediction_path).canonicalFilePath(),
             QFileInfo(pred_dir_ + "/a.npy").canonicalFilePath());
    QCOMPARE(QFileInfo(cli->cases[0].target_path).canonicalFilePath(),
             QFileInfo(target_dir_ + "/a.npy").canonicalFilePath());

    ResultsModel model;
    model.setResults(*data);
    QCOMPARE(model.rowCount(), 4);
    QCOMPARE(model.columnCount(), 2 + 3 + 1);
    QCOMPARE(model.headerData(model.metricColumn("hd95"), Qt::Horizontal).toString(), QString("hd95"));
    QCOMPARE(model.index(0, model.metricColumn("dice")).data().toString(), QString("0.9"));
    QCOMPARE(model.index(0, model.metricColumn("hd95")).data().toString(), QString("9"));
    const QModelIndex null_value = model.index(1, model.metricColumn("hd95"));
    QCOMPARE(null_value.data().toString(), QString("—"));
    QVERIFY(null_value.data(Qt::ToolTipRole).toString().contains("infinite"));
    QCOMPARE(model.index(3, ResultsModel::StatusColumn).data().toString(), QString("error"));
    QVERIFY(model.index(3, model.errorColumn()).data().toString().contains("truncated header"));
    QVERIFY(model.index(3, model.metricColumn("dice")).data(Qt::ToolTipRole).toString().contains("failed"));
}

void TestResults::sortsNumericallyWithNullsLast()
{
    QString error;
    std::optional<ResultsData> data = read_results(results_path_, &error);
    QVERIFY2(data, qPrintable(error));
    ResultsPanel panel;
    panel.setResults(std::move(*data));
    QCOMPARE(shown_cases(panel), QStringList({"case2", "case10", "case3", "case4"})); // file order
    const int hd95 = panel.model()->metricColumn("hd95");
    panel.table()->sortByColumn(hd95, Qt::AscendingOrder);
    QCOMPARE(shown_cases(panel), QStringList({"case2", "case3", "case10", "case4"}));
    panel.table()->sortByColumn(hd95, Qt::DescendingOrder);
    QCOMPARE(shown_cases(panel), QStringList({"case3", "case2", "case10", "case4"}));
    const int dice = panel.model()->metricColumn("dice");
    panel.table()->sortByColumn(dice, Qt::DescendingOrder);
    QCOMPARE(shown_cases(panel), QStringList({"case2", "case10", "case3", "case4"}));
    // Case ids in natural order.
    panel.table()->sortByColumn(ResultsModel::CaseColumn, Qt::AscendingOrder);
    QCOMPARE(shown_cases(panel), QStringList({"case2", "case3", "case4", "case10"}));
}

void TestResults::worstFirstFollowsMetricDirection()
{
    QVERIFY(results_higher_is_worse("hd95"));
    QVERIFY(results_higher_is_worse("dice_loss"));
    QVERIFY(results_higher_is_worse("fn"));
    QVERIFY(!results_higher_is_worse("dice"));
    QVERIFY(!results_higher_is_worse("nsd"));
    QVERIFY(!results_higher_is_worse("tn"));

    QString error;
    std::optional<ResultsData> data = read_results(results_path_, &error);
    QVERIFY2(data, qPrintable(error));
    ResultsPanel panel;
    panel.setResults(std::move(*data));
    panel.show();
    // dice: higher is better, so the lowest first; nulls last.
    panel.metricCombo()->setCurrentText("dice");
    QTest::mouseClick(panel.worstButton(), Qt::LeftButton);
    QCOMPARE(shown_cases(panel), QStringList({"case10", "case2", "case3", "case4"}));
    QCOMPARE(panel.table()->horizontalHeader()->sortIndicatorOrder(), Qt::AscendingOrder);
    QCOMPARE(panel.table()->selectionModel()->selectedRows().value(0).row(), 0);
    // hd95 and mse: lower is better, so the highest first.
    panel.metricCombo()->setCurrentText("hd95");
    QTest::mouseClick(panel.worstButton(), Qt::LeftButton);
    QCOMPARE(shown_cases(panel), QStringList({"case3", "case2", "case10", "case4"}));
    QCOMPARE(panel.table()->horizontalHeader()->sortIndicatorOrder(), Qt::DescendingOrder);
    panel.metricCombo()->setCurrentText("mse");
    panel.showWorstFirst();
    QCOMPARE(shown_cases(panel), QStringList({"case10", "case3", "case2", "case4"}));
}

void TestResults::activatingRowLoadsPair()
{
    QVERIFY(window_->openResults(results_path_));
    ResultsPanel* panel = window_->resultsPanel();
    QVERIFY(panel);
    QVERIFY(window_->resultsDock()->isVisible());
    QCOMPARE(panel->model()->rowCount(), 4);
    SessionPresenter* presenter = window_->presenter();

    // Worst dice first, then Enter on the selected row: case10 (b.npy).
    panel->metricCombo()->setCurrentText("dice");
    QTest::mouseClick(panel->worstButton(), Qt::LeftButton);
    QCOMPARE(panel->caseAt(0).id, QString("case10"));
    panel->table()->setFocus();
    panel->table()->setCurrentIndex(panel->proxy()->index(0, 0));
    QTest::keyClick(panel->table(), Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(presenter->dataset().prediction_path).fileName() == "b.npy", 10000);
    QCOMPARE(QFileInfo(presenter->dataset().prediction_path).canonicalFilePath(),
             QFileInfo(pred_dir_ + "/b.npy").canonicalFilePath());
    QCOMPARE(QFileInfo(presenter->dataset().target_path).canonicalFilePath(),
             QFileInfo(target_dir_ + "/b.npy").canonicalFilePath());
    QTRY_VERIFY_WITH_TIMEOUT(presenter->hasData() && !presenter->busy(), 10000);

    // Double-click the second row: case2 (a.npy).
    QCOMPARE(panel->caseAt(1).id, QString("case2"));
    const QRect rect = panel->table()->visualRect(panel->proxy()->index(1, 0));
    QTest::mouseClick(panel->table()->viewport(), Qt::LeftButton, {}, rect.center());
    QTest::mouseDClick(panel->table()->viewport(), Qt::LeftButton, {}, rect.center());
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(presenter->dataset().prediction_path).fileName() == "a.npy", 10000);
    QTRY_VERIFY_WITH_TIMEOUT(!presenter->busy(), 10000);

    // A failed case opens nothing.
    QCOMPARE(panel->caseAt(3).id, QString("case4"));
    panel->activateRow(3);
    QVERIFY(!presenter->busy());
    QCOMPARE(QFileInfo(presenter->dataset().prediction_path).fileName(), QString("a.npy"));
    QVERIFY(errors_.isEmpty());
}

void TestResults::missingCaseFileShowsError()
{
    QVERIFY(window_->openResults(results_path_));
    ResultsPanel* panel = window_->resultsPanel();
    SessionPresenter* presenter = window_->presenter();
    panel->activateRow(0); // case2 (file order)
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(presenter->dataset().prediction_path).fileName() == "a.npy", 10000);
    QTRY_VERIFY_WITH_TIMEOUT(!presenter->busy(), 10000);
    const masklens::Evaluation* before = presenter->evaluation();

    QCOMPARE(panel->caseAt(2).id, QString("case3")); // its files do not exist
    panel->activateRow(2);
    QTRY_VERIFY_WITH_TIMEOUT(errors_.size() == 1, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(!presenter->busy(), 10000);
    QCOMPARE(presenter->evaluation(), before);
    QCOMPARE(QFileInfo(presenter->dataset().prediction_path).fileName(), QString("a.npy"));
}

void TestResults::malformedFileKeepsState()
{
    QTemporaryDir dir;
    const QString broken = dir.filePath("broken.json");
    QVERIFY(write_file(broken, "{\"cases\": [ {\"case\": "));
    const QString no_cases = dir.filePath("no_cases.json");
    QVERIFY(write_file(no_cases, "{\"metrics\": [\"dice\"]}"));
    const QString bad_case = dir.filePath("bad_case.json");
    QVERIFY(write_file(bad_case, "{\"metrics\": [\"dice\"], \"cases\": [{\"case\": \"a\", \"prediction\": 3, "
                                 "\"target\": \"a.npy\"}]}"));

    // Before any results: nothing is created.
    QVERIFY(!window_->openResults(broken));
    QCOMPARE(errors_.size(), 1);
    QVERIFY(errors_[0].contains("could not be read"));
    QVERIFY(errors_[0].contains("not valid JSON"));
    QVERIFY(!window_->resultsPanel());

    // With results shown: they stay.
    QVERIFY(window_->openResults(results_path_));
    ResultsPanel* panel = window_->resultsPanel();
    panel->metricCombo()->setCurrentText("hd95");
    panel->showWorstFirst();
    const QStringList order = shown_cases(*panel);
    QVERIFY(!window_->openResults(no_cases));
    QCOMPARE(errors_.size(), 2);
    QVERIFY(errors_[1].contains("\"cases\""));
    QVERIFY(!window_->openResults(bad_case));
    QCOMPARE(errors_.size(), 3);
    QVERIFY(errors_[2].contains("prediction"));
    QVERIFY(!window_->openResults(dir.filePath("missing.json")));
    QCOMPARE(errors_.size(), 4);
    QCOMPARE(window_->resultsPanel(), panel);
    QCOMPARE(panel->model()->rowCount(), 4);
    QCOMPARE(shown_cases(*panel), order);
    QCOMPARE(panel->results().path, QFileInfo(results_path_).absoluteFilePath());
    QVERIFY(!window_->presenter()->busy());
    QVERIFY(!window_->presenter()->hasData());
}

// The image of a case in an images folder: the file named by the case id,
// else id_0000 (nnU-Net's first channel); ambiguous or absent: none.
void TestResults::caseImageFollowsTheNamingRule()
{
    QTemporaryDir images;
    QVERIFY(images.isValid());
    const QDir dir(images.path());
    for (const char* name : {"case2.nii.gz", "case2_0000.nii.gz", "case10_0000.nrrd", "case3.npy",
                             "case3.nii", "case4.txt", "case40.npy"}) {
        QVERIFY(write_file(dir.filePath(QString::fromLatin1(name)), "x"));
    }
    QVERIFY(dir.mkpath(QStringLiteral("case5.nii")));                           // a folder, not a file
    QCOMPARE(case_image(images.path(), "case2"), dir.filePath("case2.nii.gz")); // exact before _0000
    QCOMPARE(case_image(images.path(), "case10"), dir.filePath("case10_0000.nrrd"));
    QCOMPARE(case_image(images.path(), "case3"), QString()); // two files: no guess
    QCOMPARE(case_image(images.path(), "case4"), QString()); // not a supported extension
    QCOMPARE(case_image(images.path(), "case5"), QString());
    QCOMPARE(case_image(images.path(), "case"), QString()); // no prefix matching
    QCOMPARE(case_image(QString(), "case2"), QString());
}

// With an images folder chosen in the results browser, each case opens with
// its own image under the masks, and a case without one shows none (not the
// previous case's, although it fits the same grid).
void TestResults::imagesFolderShowsEachCasesImage()
{
    QTemporaryDir images;
    QVERIFY(images.isValid());
    const QDir dir(images.path());
    QVERIFY(write_file(dir.filePath("case2.npy"), npy_2x2(100.0f, 200.0f, 300.0f, 400.0f)));
    QVERIFY(write_file(dir.filePath("case10_0000.npy"), npy_2x2(-5.0f, 5.0f, 15.0f, 25.0f)));
    QVERIFY(window_->openResults(results_path_));
    ResultsPanel* panel = window_->resultsPanel();
    SessionPresenter* presenter = window_->presenter();
    panel->setImagesFolder(images.path());
    QCOMPARE(panel->caseAt(0).id, QString("case2"));
    QCOMPARE(panel->caseAt(1).id, QString("case10"));

    panel->activateRow(0);
    QTRY_VERIFY_WITH_TIMEOUT(presenter->image() != nullptr && !presenter->imageLoading(), 10000);
    QCOMPARE(QFileInfo(presenter->imagePath()).fileName(), QString("case2.npy"));
    QCOMPARE(QFileInfo(presenter->dataset().prediction_path).fileName(), QString("a.npy"));
    QCOMPARE(presenter->imageValue({0, 0, 1}), 200.0);

    panel->activateRow(1);
    QTRY_VERIFY_WITH_TIMEOUT(QFileInfo(presenter->imagePath()).fileName() == "case10_0000.npy", 10000);
    QCOMPARE(QFileInfo(presenter->dataset().prediction_path).fileName(), QString("b.npy"));
    QCOMPARE(presenter->imageValue({0, 1, 0}), 15.0);

    QVERIFY(QFile::remove(dir.filePath("case2.npy")));
    panel->activateRow(0);
    QTRY_VERIFY_WITH_TIMEOUT(
        QFileInfo(presenter->dataset().prediction_path).fileName() == "a.npy" && !presenter->busy(), 10000);
    QVERIFY(presenter->image() == nullptr);
    QVERIFY(errors_.isEmpty());
}

int main(int argc, char** argv)
{
    VtkHostWidget::setDefaultSurfaceFormat();
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true);
    TestResults test;
    return QTest::qExec(&test, argc, argv);
}

#include "test_results.moc"
