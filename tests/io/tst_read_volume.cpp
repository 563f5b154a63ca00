// Tests of read_volume(): dispatch by extension (case-insensitive, .nii.gz),
// path problems (missing, directory, permission, unknown extension, empty),
// options passed through, and that reading never changes a file.
#include "reader_test_support.h"

#include <QCryptographicHash>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>

#include <QTest>
#include <cstring>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace masklens;

class ReadVolumeTest : public QObject {
    Q_OBJECT

private slots:
    void readsEveryFixture_data();
    void readsEveryFixture();
    void extensionIsCaseInsensitive_data();
    void extensionIsCaseInsensitive();
    void passesOptionsThrough();
    void rejectsMissingFile();
    void rejectsDirectory();
    void rejectsUnreadableFile();
    void rejectsUnknownExtension_data();
    void rejectsUnknownExtension();
    void rejectsEmptyFile_data();
    void rejectsEmptyFile();
    void leavesFilesUnchanged();
    void readsReadOnlyFile();
    void pairReadEqualsTwoReads_data();
    void pairReadEqualsTwoReads();
    void pairReadReportsThePredictionsErrorFirst();
    void worldFramesCompareInOneFrame();
    void nrrdLeftAnteriorSuperiorBecomesLps();

private:
    QTemporaryDir temp_;
};

void ReadVolumeTest::readsEveryFixture_data()
{
    QTest::addColumn<int>("index");
    const auto fixtures = test::expected_fixtures("");
    QVERIFY(fixtures.size() >= 60);
    for (int i = 0; i < fixtures.size(); ++i) {
        QTest::newRow(test::row_name(fixtures[i]).constData()) << i;
    }
}

void ReadVolumeTest::readsEveryFixture()
{
    QFETCH(int, index);
    const auto fixture = test::expected_fixtures("").at(index);
    const std::string path = test::fixture_path(fixture.file);
    const Volume volume = io::read_volume(path, fixture.options);
    QCOMPARE(volume.source(), path);
    test::compare_with_expected(volume, fixture.json);
}

void ReadVolumeTest::extensionIsCaseInsensitive_data()
{
    QTest::addColumn<QString>("fixture");
    QTest::addColumn<QString>("name");
    QTest::newRow("NPY") << "npy/shape_2d_c.npy"
                         << "MASK.NPY";
    QTest::newRow("Npz") << "npz/single_deflated.npz"
                         << "pred.Npz";
    QTest::newRow("NII.GZ") << "nifti/nifti1_sform_uint8.nii.gz"
                            << "LABELS.NII.GZ";
    QTest::newRow("Nii") << "nifti/nifti2_float32.nii"
                         << "probs.Nii";
    QTest::newRow("NRRD") << "nrrd/nrrd_gzip_float32.nrrd"
                          << "v.NRRD";
    QTest::newRow("MHA") << "metaimage/local_uint8.mha"
                         << "v.MHA";
    QTest::newRow("PNG") << "image2d/gray8.png"
                         << "slice.PNG";
    QTest::newRow("TIFF") << "image2d/gray16.tif"
                          << "slice.TIFF";
    QTest::newRow("dots in name") << "npy/shape_3d_c.npy"
                                  << "case.001.v2.npy";
}

void ReadVolumeTest::extensionIsCaseInsensitive()
{
    QFETCH(QString, fixture);
    QFETCH(QString, name);
    const Volume original = io::read_volume(test::fixture_path(fixture));
    const std::string copy =
        test::write_file(temp_.filePath(name), test::read_all(test::readers_dir() + "/" + fixture));
    const Volume renamed = io::read_volume(copy);
    QCOMPARE(renamed.shape(), original.shape());
    QCOMPARE(renamed.type(), original.type());
    QVERIFY(std::memcmp(renamed.data(), original.data(), original.byte_size()) == 0);
}

void ReadVolumeTest::passesOptionsThrough()
{
    const Volume nhw = io::read_volume(test::fixture_path("npy/batch_nhw.npy"), {io::Layout::NHW, {}});
    QCOMPARE(nhw.shape().to_string(), std::string("[3, 1, 4, 5]"));
    const Volume target =
        io::read_volume(test::fixture_path("npz/multi_deflated.npz"), {io::Layout::Auto, "target"});
    QCOMPARE(target.type(), ScalarType::UInt8);
    const std::string path = test::fixture_path("npz/multi_deflated.npz");
    test::expect_input_error(
        [&] {
            io::read_volume(path, {io::Layout::Auto, "nope"});
        },
        path, "no array 'nope'");
}

void ReadVolumeTest::rejectsMissingFile()
{
    const std::string path = temp_.filePath("does_not_exist.nii.gz").toStdString();
    test::expect_input_error([&] { io::read_volume(path); }, path, "no such file");
    const std::string npy = temp_.filePath("missing.npy").toStdString();
    test::expect_input_error([&] { io::read_npy(npy); }, npy, "no such file");
    test::expect_input_error([&] { io::read_npz(npy); }, npy, "no such file");
    test::expect_input_error([&] { io::read_image(path); }, path, "no such file");
}

void ReadVolumeTest::rejectsDirectory()
{
    QVERIFY(QDir(temp_.path()).mkpath("volume.nii"));
    const std::string path = temp_.filePath("volume.nii").toStdString();
    test::expect_input_error([&] { io::read_volume(path); }, path, "is a directory");
    test::expect_input_error([&] { io::read_image(path); }, path, "is a directory");
    const std::string dir = temp_.path().toStdString();
    test::expect_input_error([&] { io::read_volume(dir); }, dir, "is a directory");
}

void ReadVolumeTest::rejectsUnreadableFile()
{
    const std::string path = test::write_file(temp_.filePath("secret.npy"),
                                              test::read_all(test::readers_dir() + "/npy/shape_2d_c.npy"));
    QVERIFY(::chmod(path.c_str(), 0) == 0);
    if (::geteuid() != 0) {
        test::expect_input_error([&] { io::read_volume(path); }, path, "permission denied");
        ::chmod(path.c_str(), 0644);
        return;
    }
    // Root reads anything: check in a child that drops to user "nobody".
    QVERIFY(::chmod(temp_.path().toLocal8Bit().constData(), 0755) == 0);
    const pid_t child = ::fork();
    QVERIFY(child >= 0);
    if (child == 0) {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
            ::_exit(3);
        }
        try {
            io::read_volume(path);
        } catch (const Error& error) {
            const bool ok =
                error.kind() == Error::Kind::Input && error.file() == path &&
                QString::fromStdString(error.message()).contains("permission denied", Qt::CaseInsensitive);
            ::_exit(ok ? 0 : 1);
        } catch (...) {
            ::_exit(2);
        }
        ::_exit(4);
    }
    int status = 0;
    QVERIFY(::waitpid(child, &status, 0) == child);
    ::chmod(path.c_str(), 0644);
    QVERIFY(WIFEXITED(status));
    if (WEXITSTATUS(status) == 3) {
        QSKIP("cannot switch to user nobody to test permissions");
    }
    QCOMPARE(WEXITSTATUS(status), 0);
}

void ReadVolumeTest::rejectsUnknownExtension_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("fragment");
    QTest::newRow("txt") << "mask.txt"
                         << "unsupported file type '.txt'";
    QTest::newRow("gz alone") << "mask.gz"
                              << "unsupported file type '.gz'";
    QTest::newRow("dicom") << "slice.dcm"
                           << "'.dcm'";
    QTest::newRow("none") << "mask"
                          << "no extension";
    QTest::newRow("hidden") << ".npy"
                            << "no extension";
}

void ReadVolumeTest::rejectsUnknownExtension()
{
    QFETCH(QString, name);
    QFETCH(QString, fragment);
    const std::string path = test::write_file(temp_.filePath(name), QByteArray("some bytes"));
    const QString message = test::expect_input_error([&] { io::read_volume(path); }, path, fragment);
    QVERIFY2(message.contains(".npy") && message.contains(".nii.gz") && message.contains(".tiff"),
             qPrintable(message));
}

void ReadVolumeTest::rejectsEmptyFile_data()
{
    QTest::addColumn<QString>("name");
    for (const char* name : {"e.npy", "e.npz", "e.nii", "e.nii.gz", "e.nrrd", "e.nhdr", "e.mha", "e.mhd",
                             "e.png", "e.tif", "e.tiff"}) {
        QTest::newRow(name) << QString(name);
    }
}

void ReadVolumeTest::rejectsEmptyFile()
{
    QFETCH(QString, name);
    const std::string path = test::write_file(temp_.filePath(name), QByteArray());
    test::expect_input_error([&] { io::read_volume(path); }, path, "empty");
}

void ReadVolumeTest::leavesFilesUnchanged()
{
    struct Snapshot {
        QString path;
        QDateTime modified;
        QByteArray hash;
        QFile::Permissions permissions;
    };
    auto snapshot = [] {
        QList<Snapshot> files;
        QDirIterator it(test::readers_dir(), QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString path = it.next();
            const QFileInfo info(path);
            files.push_back({path, info.lastModified(),
                             QCryptographicHash::hash(test::read_all(path), QCryptographicHash::Sha256),
                             info.permissions()});
        }
        std::sort(files.begin(), files.end(),
                  [](const Snapshot& a, const Snapshot& b) { return a.path < b.path; });
        return files;
    };
    const auto before = snapshot();
    QVERIFY(before.size() > 60);
    int read = 0;
    for (const auto& fixture : test::expected_fixtures("")) {
        io::read_volume(test::fixture_path(fixture.file), fixture.options);
        ++read;
    }
    QVERIFY(read > 60);
    const auto after = snapshot();
    QCOMPARE(after.size(), before.size());
    for (qsizetype i = 0; i < before.size(); ++i) {
        QCOMPARE(after[i].path, before[i].path);
        QCOMPARE(after[i].modified, before[i].modified);
        QCOMPARE(after[i].hash, before[i].hash);
        QCOMPARE(after[i].permissions, before[i].permissions);
    }
}

void ReadVolumeTest::readsReadOnlyFile()
{
    // Readers must not ask for write access.
    for (const char* name :
         {"npz/multi_deflated.npz", "nifti/nifti1_sform_uint8.nii.gz", "image2d/gray8.png"}) {
        const QString copy = temp_.filePath(QFileInfo(name).fileName());
        test::write_file(copy, test::read_all(test::readers_dir() + "/" + name));
        QVERIFY(::chmod(copy.toLocal8Bit().constData(), 0444) == 0);
        const std::string path = copy.toStdString();
        const io::ReadOptions options{io::Layout::Auto, QByteArray(name).startsWith("npz") ? "pred" : ""};
        const Volume volume = io::read_volume(path, options);
        QVERIFY(volume.byte_size() > 0);
        ::chmod(copy.toLocal8Bit().constData(), 0644);
    }
}

void ReadVolumeTest::pairReadEqualsTwoReads_data()
{
    QTest::addColumn<QString>("prediction");
    QTest::addColumn<QString>("target");
    // Same and different readers on the two threads; PNG twice (VTK-backed, serialised).
    QTest::newRow("nii.gz + nii.gz") << "nifti/nifti2_float32.nii.gz"
                                     << "nifti/nifti1_sform_uint8.nii.gz";
    QTest::newRow("npy + nrrd") << "npy/shape_2d_c.npy"
                                << "nrrd/nrrd_gzip_float32.nrrd";
    QTest::newRow("png + png") << "image2d/gray8.png"
                               << "image2d/gray16.png";
    QTest::newRow("tif + mha") << "image2d/gray16.tif"
                               << "metaimage/local_uint8.mha";
}

// read_volume_pair (two threads) gives each file's read_volume result.
void ReadVolumeTest::pairReadEqualsTwoReads()
{
    QFETCH(QString, prediction);
    QFETCH(QString, target);
    const std::string p = (test::readers_dir() + "/" + prediction).toStdString();
    const std::string t = (test::readers_dir() + "/" + target).toStdString();
    for (int round = 0; round < 5; ++round) {
        const io::VolumePair pair = io::read_volume_pair(p, {}, t, {});
        const Volume p_alone = io::read_volume(p);
        const Volume t_alone = io::read_volume(t);
        QCOMPARE(pair.prediction.source(), p);
        QCOMPARE(pair.target.source(), t);
        QCOMPARE(pair.prediction.shape().to_string(), p_alone.shape().to_string());
        QCOMPARE(pair.target.shape().to_string(), t_alone.shape().to_string());
        QCOMPARE(pair.prediction.byte_size(), p_alone.byte_size());
        QCOMPARE(pair.target.byte_size(), t_alone.byte_size());
        QVERIFY(std::memcmp(pair.prediction.data(), p_alone.data(), p_alone.byte_size()) == 0);
        QVERIFY(std::memcmp(pair.target.data(), t_alone.data(), t_alone.byte_size()) == 0);
    }
}

// Errors as if the files were read one after the other: the prediction's
// first; the target's when only the target fails.
void ReadVolumeTest::pairReadReportsThePredictionsErrorFirst()
{
    const std::string good = (test::readers_dir() + "/npy/shape_2d_c.npy").toStdString();
    const std::string missing_p = temp_.filePath("missing_prediction.npy").toStdString();
    const std::string missing_t = temp_.filePath("missing_target.nii.gz").toStdString();
    const auto failing_file = [](const std::string& p, const std::string& t) -> std::string {
        try {
            io::read_volume_pair(p, {}, t, {});
        } catch (const Error& error) {
            return error.file();
        }
        return "(no error)";
    };
    QCOMPARE(failing_file(missing_p, missing_t), missing_p);
    QCOMPARE(failing_file(good, missing_t), missing_t);
    QCOMPARE(failing_file(missing_p, good), missing_p);
}

// tests/data/orientation (tests/generate_orientation_fixtures.py): NIfTI
// geometry is in RAS, NRRD "left-posterior-superior" in LPS. The NIfTI file
// with diag(-1, -1, 1) and the LPS NRRD file with identity directions place
// the same grid the same way (nibabel.aff2axcodes: L, P, S for both); the
// identity-RAS NIfTI file is their mirror image.
void ReadVolumeTest::worldFramesCompareInOneFrame()
{
    const std::string dir = MASKLENS_TEST_DATA "/orientation/";
    const Volume ras = io::read_volume(dir + "phantom_ras_target.nii.gz");
    const Volume lps_nifti = io::read_volume(dir + "phantom_lps_target.nii.gz");
    const Volume nrrd = io::read_volume(dir + "phantom_nrrd_target.nrrd");
    QVERIFY(ras.geometry().frame == WorldFrame::RAS);
    QVERIFY(lps_nifti.geometry().frame == WorldFrame::RAS);
    QVERIFY(nrrd.geometry().frame == WorldFrame::LPS);
    QCOMPARE(lps_nifti.geometry().direction[0], -1.0);
    QCOMPARE(nrrd.geometry().direction[0], 1.0);
    check_same_geometry(lps_nifti, nrrd); // the same placement written in two frames
    check_same_geometry(nrrd, lps_nifti);
    try {
        check_same_geometry(ras, nrrd);
        QFAIL("mirrored placements accepted");
    } catch (const Error& error) {
        QVERIFY2(QString(error.what()).contains(QStringLiteral("direction")), error.what());
    }
    // in_frame converts both ways and back.
    const Geometry there = in_frame(ras.geometry(), WorldFrame::LPS);
    QVERIFY(there.frame == WorldFrame::LPS);
    QCOMPARE(there.direction[0], -1.0);
    QCOMPARE(there.direction[4], -1.0);
    QCOMPARE(there.direction[8], 1.0);
    QCOMPARE(in_frame(there, WorldFrame::RAS).direction, ras.geometry().direction);
}

// NRRD's "left-anterior-superior" space: x to the left as LPS, y to the
// anterior (LPS's -y). Hand-derived: origin (5, 7, 9) and axis vectors (2,0,0),
// (0,3,0), (0,0,4) in LAS are origin (5, -7, 9) and directions x, -y, z in LPS.
void ReadVolumeTest::nrrdLeftAnteriorSuperiorBecomesLps()
{
    const QString path = temp_.filePath(QStringLiteral("las.nrrd"));
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("NRRD0004\ntype: uint8\ndimension: 3\nsizes: 2 2 2\nspace: left-anterior-superior\n"
               "space directions: (2,0,0) (0,3,0) (0,0,4)\nspace origin: (5,7,9)\nencoding: raw\n\n");
    file.write(QByteArray(8, '\1'));
    file.close();
    const Volume volume = io::read_volume(path.toStdString());
    const Geometry& g = volume.geometry();
    QVERIFY(g.frame == WorldFrame::LPS);
    QCOMPARE(g.spacing, (std::array<double, 3>{2, 3, 4}));
    QCOMPARE(g.origin, (std::array<double, 3>{5, -7, 9}));
    QCOMPARE(g.direction, (std::array<double, 9>{1, 0, 0, 0, -1, 0, 0, 0, 1}));
}

QTEST_APPLESS_MAIN(ReadVolumeTest)

#include "tst_read_volume.moc"
