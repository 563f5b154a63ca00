// The app's lesion list (ui/model lesion_list.h, lesion_pass.h) and tab
// (ui/src/lesion_panel.cpp) on a hand-made pair whose lesions are known:
//   target      A: the 2x2x2 cube at the origin (found exactly)
//               B: one voxel at (4, 4, 4)        (missed)
//   prediction  A, plus F1: three voxels (5, 0, 3..5) and F2: one voxel
//               (0, 5, 5), both false.
// Raster order numbers the predicted lesions A = 1, F2 = 2, F1 = 3.
#include "masklens/engine/evaluate.h"
#include "masklens/ui/lesion_list.h"
#include "masklens/ui/lesion_panel.h"
#include "masklens/ui/session_presenter.h"
#include "ui_test_support.h"

#include <QtTest>

#include <cmath>

using namespace masklens;
using namespace masklens::ui;
using masklens::ui::test::make_u8;

namespace {

Shape cube_shape()
{
    Shape shape;
    shape.n = 1;
    shape.c = 1;
    shape.d = shape.h = shape.w = 6;
    shape.spatial_dims = 3;
    return shape;
}

std::size_t at(std::int64_t d, std::int64_t h, std::int64_t w)
{
    return static_cast<std::size_t>((d * 6 + h) * 6 + w);
}

std::pair<std::shared_ptr<Volume>, std::shared_ptr<Volume>> pair_of_lesions()
{
    std::vector<std::uint8_t> target(216, 0), pred(216, 0);
    for (std::int64_t d = 0; d < 2; ++d) {
        for (std::int64_t h = 0; h < 2; ++h) {
            for (std::int64_t w = 0; w < 2; ++w) {
                target[at(d, h, w)] = pred[at(d, h, w)] = 1;
            }
        }
    }
    target[at(4, 4, 4)] = 1;
    pred[at(5, 0, 3)] = pred[at(5, 0, 4)] = pred[at(5, 0, 5)] = 1;
    pred[at(0, 5, 5)] = 1;
    return {make_u8("pred", cube_shape(), pred), make_u8("target", cube_shape(), target)};
}

} // namespace

class TestLesionsUi : public QObject {
    Q_OBJECT
private slots:
    void listFiltersSortsAndCentres()
    {
        const auto [pred, target] = pair_of_lesions();
        StatisticsOptions options;
        options.metrics = {Metric::LesionTp, Metric::LesionDice};
        const Evaluation evaluation = evaluate(*pred, *target, options);
        LesionList list;
        list.setRows(lesion_rows_of(evaluation, 0, std::nullopt));
        QCOMPARE(list.rowCount(), 5);
        QCOMPARE(list.data(list.index(0, LesionList::Status)).toString(), QString("found"));
        QCOMPARE(list.data(list.index(1, LesionList::Status)).toString(), QString("missed"));

        list.setFilter(LesionFilter::Missed);
        QCOMPARE(list.rowCount(), 1);
        QCOMPARE(list.lesionAt(0)->lesion.id, std::int64_t{2});
        QCOMPARE(lesion_centre(*list.lesionAt(0)), (Voxel{4, 4, 4}));
        QCOMPARE(list.data(list.index(0, LesionList::Dice)).toString(), QString("0.000"));

        // False lesions, largest first: F1 (3 voxels, id 3), then F2.
        list.setFilter(LesionFilter::False);
        list.sort(LesionList::Volume, Qt::DescendingOrder);
        QCOMPARE(list.rowCount(), 2);
        QCOMPARE(list.lesionAt(0)->lesion.id, std::int64_t{3});
        QCOMPARE(list.lesionAt(0)->lesion.voxels, std::int64_t{3});
        QCOMPARE(lesion_centre(*list.lesionAt(0)), (Voxel{5, 0, 4}));
        QCOMPARE(list.lesionAt(1)->lesion.id, std::int64_t{2});

        // By Dice: the found target lesion's 1 after the zeros; the matched
        // predicted lesion (no score of its own) last.
        list.setFilter(LesionFilter::All);
        list.sort(LesionList::Dice, Qt::AscendingOrder);
        QCOMPARE(list.lesionAt(3)->lesion.dice, 1.0);
        QVERIFY(std::isnan(list.lesionAt(4)->lesion.dice));
        QCOMPARE(list.data(list.index(4, LesionList::Dice)).toString(), QString("\u2014"));
        list.setFilter(LesionFilter::MissedOrFalse);
        QCOMPARE(list.rowCount(), 3);
    }

    // The tab through the presenter: the pass finds the lesions of the
    // session's pair; a row click moves the cursor to the lesion.
    void panelCentresTheCursorOnALesion()
    {
        const auto [pred, target] = pair_of_lesions();
        SessionPresenter presenter;
        presenter.setSynchronous(true);
        presenter.setVolumes(pred, target);
        LesionPanel panel(&presenter);
        QCOMPARE(panel.list()->rowCount(), 0); // not computed until asked
        panel.findLesions(true);
        QCOMPARE(panel.list()->rowCount(), 5);
        panel.list()->setFilter(LesionFilter::Missed);
        panel.centreOn(0);
        QCOMPARE(presenter.cursor(), (Voxel{4, 4, 4}));
        // Missed lesion B scores the BraTS penalty (no prediction near it).
        QCOMPARE(panel.list()->lesionAt(0)->lesion.hd95, 374.0);
        // New numbers make the rows stale.
        presenter.setThreshold(0.7);
        QCOMPARE(panel.list()->rowCount(), 0);
    }
};

QTEST_MAIN(TestLesionsUi)
#include "test_lesions_ui.moc"
