// masklens-cli evaluate --format table with lesion metrics: the per-lesion
// section (report.h write_lesion_rows_table) shows the same rows as the
// JSON "lesions" array of the same run, and the rows of the committed
// reference tests/data/lesions/table.json (NumPy / SciPy over cc3d's
// labels, overlap rule; this .npz has no geometry: 1 mm voxels, so mm3 =
// voxels), capped at kTableLesionRows (20) rows and a "... N more" line.
#include "cli_run.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QtTest>

#include <algorithm>
#include <cmath>

using masklens::testing::run_cli;

namespace {

const QString kBlobs = QStringLiteral(MASKLENS_TEST_DATA "/lesions/blobs3d.npz");

QStringList pair_of(const QString& npz)
{
    return {"evaluate", npz, npz, "--pred-key", "pred", "--target-key", "target"};
}

// The per-lesion section's row lines (after its title and header) and the
// line after them.
struct Section {
    bool found = false;
    QStringList header;
    QList<QStringList> rows;
    QString after;
};

Section lesion_section(const QString& out)
{
    Section section;
    const QStringList lines = out.split('\n');
    int i = 0;
    while (i < lines.size() && !lines[i].startsWith("per lesion")) {
        ++i;
    }
    if (i == lines.size()) {
        return section;
    }
    section.found = true;
    if (++i < lines.size()) {
        section.header = lines[i].split(QRegularExpression("\\s+"), Qt::SkipEmptyParts);
    }
    for (++i; i < lines.size(); ++i) {
        const QStringList fields = lines[i].split(QRegularExpression("\\s+"), Qt::SkipEmptyParts);
        if (fields.size() != 8 || fields[0] == "...") {
            section.after = lines[i];
            break;
        }
        section.rows.push_back(fields);
    }
    return section;
}

bool close(const QString& text, const QJsonValue& value, double tolerance)
{
    if (value.isNull()) {
        return text == "-";
    }
    return std::abs(text.toDouble() - value.toDouble()) <= tolerance;
}

} // namespace

class TestCliLesions : public QObject {
    Q_OBJECT
private slots:
    void tableRowsEqualJsonAndReference()
    {
        const QStringList args =
            pair_of(kBlobs) + QStringList{"--metrics", "lesion_tp,lesion_dice,lesion_hd95", "--lesion-match",
                                          "overlap", "--no-slices"};
        const auto table = run_cli(args + QStringList{"--format", "table"});
        QCOMPARE(table.exit_code, 0);
        const auto json_run = run_cli(args + QStringList{"--format", "json"});
        QCOMPARE(json_run.exit_code, 0);
        const QJsonArray lesions =
            QJsonDocument::fromJson(json_run.out.toUtf8()).object()["lesions"].toArray();
        QFile file(QStringLiteral(MASKLENS_TEST_DATA "/lesions/table.json"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QJsonArray want = QJsonDocument::fromJson(file.readAll())
                                    .object()["cases"]
                                    .toObject()["blobs3d"]
                                    .toObject()["rows"]
                                    .toArray();
        QCOMPARE(lesions.size(), want.size());
        QVERIFY(want.size() > 20); // the cap applies

        const Section section = lesion_section(table.out);
        QVERIFY2(section.found, qPrintable(table.out));
        QCOMPARE(section.header,
                 (QStringList{"sample", "label", "side", "id", "mm3", "status", "dice", "hd95"}));
        QCOMPARE(section.rows.size(), 20);
        QCOMPARE(section.after,
                 QStringLiteral("... %1 more lesions (all of them: --format json or --lesion-table FILE)")
                     .arg(want.size() - 20));
        for (int r = 0; r < section.rows.size(); ++r) {
            const QStringList& got = section.rows[r];
            const QJsonObject json = lesions[r].toObject(), ref = want[r].toObject();
            const QString where = QStringLiteral("row %1: %2").arg(r).arg(got.join(' '));
            // The JSON of the same run.
            QVERIFY2(got[0].toLongLong() == json["sample"].toInteger(), qPrintable(where));
            QVERIFY2(json["label"].isNull() && got[1] == "-", qPrintable(where));
            QVERIFY2(got[2] == json["side"].toString() && got[3].toLongLong() == json["id"].toInteger(),
                     qPrintable(where));
            QVERIFY2(std::abs(got[4].toDouble() - json["volume_mm3"].toDouble()) <=
                         1e-5 * json["volume_mm3"].toDouble(),
                     qPrintable(where));
            QVERIFY2(got[5] == json["status"].toString(), qPrintable(where));
            QVERIFY2(close(got[6], json["dice"], 5.1e-5), qPrintable(where));
            QVERIFY2(close(got[7], json["hd95"], 5.1e-3), qPrintable(where));
            // The reference (independent of MaskLens).
            QVERIFY2(got[2] == ref["side"].toString() && got[3].toLongLong() == ref["id"].toInteger(),
                     qPrintable(where));
            QVERIFY2(got[4].toDouble() == ref["voxels"].toDouble(), qPrintable(where));
            QVERIFY2(got[5] == ref["status"].toString(), qPrintable(where));
            QVERIFY2(close(got[6], ref["dice"], 5.1e-5), qPrintable(where));
        }
        // A missed target lesion scores the HD penalty (374 mm) in its row.
        bool penalty = false;
        for (const QStringList& row : section.rows) {
            penalty = penalty || (row[5] == "fn" && row[7] == "374.00");
        }
        QVERIFY(penalty || std::none_of(section.rows.begin(), section.rows.end(),
                                        [](const QStringList& row) { return row[5] == "fn"; }));
    }

    void noSectionWithoutLesionMetrics()
    {
        const auto run = run_cli(pair_of(kBlobs) + QStringList{"--metrics", "dice", "--no-slices"});
        QCOMPARE(run.exit_code, 0);
        QVERIFY(!lesion_section(run.out).found);
    }

    void emptyMasksSayNoLesions()
    {
        const auto run = run_cli(pair_of(QStringLiteral(MASKLENS_TEST_DATA "/lesions/both_empty.npz")) +
                                 QStringList{"--metrics", "lesion_tp", "--no-slices"});
        QCOMPARE(run.exit_code, 0);
        const Section section = lesion_section(run.out);
        QVERIFY2(section.found, qPrintable(run.out));
        QVERIFY(run.out.contains("no lesions in either mask"));
    }
};

QTEST_GUILESS_MAIN(TestCliLesions)
#include "test_cli_lesions.moc"
