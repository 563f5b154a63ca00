// The evaluation service's policy without a GPU: device choice and notes,
// the GPU -> CPU fallback, the resident pair uploaded once across
// re-evaluations, one device evaluation at a time, and the app's "keep the
// hard metrics" rule. The device is replaced by a resident copy written here
// (FakeResident) that computes with the CPU pass and counts its calls.
#include "masklens/engine/build_info.h"
#include "masklens/engine/error.h"
#include "masklens/engine/evaluate.h"
#include "masklens/gpu/cuda_statistics.h"
#include "masklens/service/compute_device.h"
#include "masklens/service/pair_evaluator.h"

#include <QtTest>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>

using namespace masklens;
using namespace masklens::service;

namespace {

std::shared_ptr<const Volume> volume_of(const std::vector<float>& values, std::int64_t h, std::int64_t w)
{
    Shape shape;
    shape.n = 1;
    shape.c = 1;
    shape.h = h;
    shape.w = w;
    shape.spatial_dims = 2;
    auto volume = std::make_shared<Volume>("mem", ScalarType::Float32, shape);
    std::memcpy(volume->data(), values.data(), volume->byte_size());
    return volume;
}

// 8x8: a target square and a soft prediction of it, one voxel off.
std::shared_ptr<const Volume> square_target()
{
    std::vector<float> values(64, 0.0F);
    for (int y = 2; y < 6; ++y) {
        for (int x = 2; x < 6; ++x) {
            values[static_cast<std::size_t>(y * 8 + x)] = 1.0F;
        }
    }
    return volume_of(values, 8, 8);
}

std::shared_ptr<const Volume> square_prediction(float scale = 1.0F)
{
    std::vector<float> values(64, 0.1F);
    for (int y = 2; y < 6; ++y) {
        for (int x = 3; x < 7; ++x) {
            values[static_cast<std::size_t>(y * 8 + x)] = 0.2F + 0.1F * static_cast<float>(x);
        }
    }
    for (float& value : values) {
        value *= scale;
    }
    return volume_of(values, 8, 8);
}

StatisticsOptions options_at(double threshold, std::vector<Metric> metrics = {Metric::Dice, Metric::Bce})
{
    StatisticsOptions options;
    options.metrics = std::move(metrics);
    options.metric.threshold = threshold;
    return options;
}

// Counts what the service asks of the device; may fail on a chosen call.
struct DeviceLog {
    std::atomic<int> made{0};
    std::atomic<int> computed{0};
    std::atomic<int> inside{0};
    std::atomic<bool> overlapped{false};
    int fail_on_call = 0; // 1-based compute call that throws Error(Device); 0: none
    bool refuse_upload = false;
};

class FakeResident final : public ResidentPair {
public:
    FakeResident(const Volume& prediction, const Volume& target, DeviceLog& log)
        : prediction_(prediction), target_(target), log_(log)
    {}
    BatchStatistics compute(const StatisticsOptions& options) override
    {
        if (log_.inside.fetch_add(1) != 0) {
            log_.overlapped = true;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        const int call = ++log_.computed;
        log_.inside.fetch_sub(1);
        if (call == log_.fail_on_call) {
            throw Error(Error::Kind::Device, {}, "fake device lost");
        }
        return compute_statistics(prediction_, target_, options);
    }

private:
    const Volume& prediction_;
    const Volume& target_;
    DeviceLog& log_;
};

ResidentFactory fake_factory(DeviceLog& log)
{
    return [&log](const Volume& prediction, const Volume& target) -> std::unique_ptr<ResidentPair> {
        if (log.refuse_upload) {
            throw Error(Error::Kind::Device, {}, "does not fit");
        }
        ++log.made;
        return std::make_unique<FakeResident>(prediction, target, log);
    };
}

ComputeDevice gpu_device(bool fallback)
{
    ComputeDevice device;
    device.name = "cuda";
    device.fallback_to_cpu = fallback;
    return device;
}

bool same_values(const Evaluation& a, const Evaluation& b)
{
    if (a.metrics != b.metrics || a.batch.size() != b.batch.size()) {
        return false;
    }
    for (std::size_t m = 0; m < a.batch.size(); ++m) {
        if (!(a.batch[m] == b.batch[m] || (std::isnan(a.batch[m]) && std::isnan(b.batch[m])))) {
            return false;
        }
    }
    return true;
}

gpu::DeviceReport report_with_gpu()
{
    gpu::DeviceReport report;
    report.cuda_built = true;
    report.device_count = 1;
    report.device_name = "Test GPU";
    return report;
}

gpu::DeviceReport report_without_gpu()
{
    gpu::DeviceReport report;
    report.cuda_built = true;
    report.detail = "no driver";
    return report;
}

} // namespace

class TestService : public QObject {
    Q_OBJECT

private slots:
    // The results' "cuda" build flag (engine, from CMake) names the GPU code
    // that was actually linked (gpu: the kernels or the stub).
    void buildInfoAgreesWithTheLinkedGpuPath() { QCOMPARE(build_info().cuda, gpu::cuda_path_built()); }

    void cliChoiceFollowsTheDocumentedPolicy()
    {
        const ComputeDevice cpu = choose_compute_device(gpu::DeviceChoice::Cpu, report_with_gpu());
        QCOMPARE(cpu.name, std::string("cpu"));
        QVERIFY(!cpu.fallback_to_cpu);
        QVERIFY(cpu.note.empty()); // nothing on stderr for an explicit cpu
        QCOMPARE(cpu.summary, std::string("Evaluating on the CPU."));

        const ComputeDevice automatic = choose_compute_device(gpu::DeviceChoice::Auto, report_with_gpu());
        QCOMPARE(automatic.name, std::string("cuda"));
        QCOMPARE(automatic.label, std::string("GPU: Test GPU"));
        QVERIFY(automatic.fallback_to_cpu);
        QVERIFY(automatic.note.find("Test GPU") != std::string::npos);

        const ComputeDevice no_gpu = choose_compute_device(gpu::DeviceChoice::Auto, report_without_gpu());
        QCOMPARE(no_gpu.name, std::string("cpu"));
        QVERIFY(no_gpu.note.find("no driver") != std::string::npos);

        const ComputeDevice forced = choose_compute_device(gpu::DeviceChoice::Cuda, report_with_gpu());
        QCOMPARE(forced.name, std::string("cuda"));
        QVERIFY(!forced.fallback_to_cpu); // --device cuda: a device failure is an error
        try {
            choose_compute_device(gpu::DeviceChoice::Cuda, report_without_gpu());
            QFAIL("--device cuda without a device must be refused");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Device);
        }
    }

    void appRequestNeverRefuses()
    {
        const ComputeDevice unknown = device_for_request("tpu", report_with_gpu());
        QCOMPARE(unknown.name, std::string("cpu"));
        QVERIFY(unknown.note.find("MASKLENS_DEVICE=tpu") != std::string::npos);
        const ComputeDevice absent = device_for_request("cuda", report_without_gpu());
        QCOMPARE(absent.name, std::string("cpu"));
        QVERIFY(absent.note.find("cannot be used") != std::string::npos);
        QCOMPARE(absent.summary, absent.note);
        const ComputeDevice present = device_for_request("", report_with_gpu());
        QCOMPARE(present.name, std::string("cuda"));
        QVERIFY(present.fallback_to_cpu); // the app always shows numbers
        QCOMPARE(device_for_request("cuda", report_with_gpu()).fallback_to_cpu, true);
    }

    // The resident copy is made once; every threshold change reuses it, and
    // the values are the CPU pass's.
    void reevaluationsReuseTheResidentPair()
    {
        DeviceLog log;
        PairEvaluator evaluator(square_prediction(), square_target(), gpu_device(false), fake_factory(log));
        QCOMPARE(evaluator.uploads(), 0); // nothing before the first evaluation
        for (const double threshold : {0.3, 0.5, 0.7, 0.5}) {
            const Evaluation evaluation = evaluator.evaluate(options_at(threshold));
            QVERIFY(same_values(evaluation,
                                evaluate(*square_prediction(), *square_target(), options_at(threshold))));
            QCOMPARE(evaluator.last_device(), std::string("cuda"));
        }
        QCOMPARE(log.made.load(), 1);
        QCOMPARE(log.computed.load(), 4);
        QCOMPARE(evaluator.uploads(), 1);
        QVERIFY(evaluator.fallback_note().empty());
    }

    // A device lost mid-session: the evaluation is retried on the CPU, and the
    // pair stays there (no new upload, no new device call).
    void deviceFailureFallsBackAndStaysOnTheCpu()
    {
        DeviceLog log;
        log.fail_on_call = 2;
        PairEvaluator evaluator(square_prediction(), square_target(), gpu_device(true), fake_factory(log));
        evaluator.evaluate(options_at(0.5));
        QCOMPARE(evaluator.last_device(), std::string("cuda"));
        const Evaluation second = evaluator.evaluate(options_at(0.4));
        QCOMPARE(evaluator.last_device(), std::string("cpu"));
        QVERIFY(evaluator.fallback_note().find("fake device lost") != std::string::npos);
        QVERIFY(same_values(second, evaluate(*square_prediction(), *square_target(), options_at(0.4))));
        evaluator.evaluate(options_at(0.6));
        QCOMPARE(log.computed.load(), 2);
        QCOMPARE(log.made.load(), 1);
    }

    void deviceFailureIsAnErrorWithoutFallback()
    {
        DeviceLog log;
        log.fail_on_call = 1;
        PairEvaluator evaluator(square_prediction(), square_target(), gpu_device(false), fake_factory(log));
        try {
            evaluator.evaluate(options_at(0.5));
            QFAIL("--device cuda must not fall back");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Device);
        }
    }

    // A pair that cannot stay resident is streamed (gpu::evaluate_on); on a
    // machine without a usable CUDA path that fails too and the CPU answers.
    void pairTooLargeToKeepIsStreamed()
    {
        DeviceLog log;
        log.refuse_upload = true;
        PairEvaluator evaluator(square_prediction(), square_target(), gpu_device(true), fake_factory(log));
        const Evaluation evaluation = evaluator.evaluate(options_at(0.5));
        QVERIFY(same_values(evaluation, evaluate(*square_prediction(), *square_target(), options_at(0.5))));
        QCOMPARE(evaluator.uploads(), 0);
        if (gpu::cuda_path_available()) {
            QCOMPARE(evaluator.last_device(), std::string("cuda"));
        } else {
            QCOMPARE(evaluator.last_device(), std::string("cpu"));
            QVERIFY(!evaluator.fallback_note().empty());
        }
    }

    // The engine's own errors are not device failures: no fallback, no retry.
    void inputErrorsPassThrough()
    {
        DeviceLog log;
        PairEvaluator evaluator(square_prediction(2.0F), square_target(), gpu_device(true),
                                fake_factory(log));
        try {
            evaluator.evaluate(options_at(0.5, {Metric::Bce}));
            QFAIL("bce of values above 1 must be refused");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Input);
        }
        QVERIFY(evaluator.fallback_note().empty());
    }

    // Device evaluations of one pair never overlap (one stream, one workspace).
    void deviceEvaluationsAreSerialised()
    {
        DeviceLog log;
        PairEvaluator evaluator(square_prediction(), square_target(), gpu_device(false), fake_factory(log));
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&evaluator, t]() {
                for (int i = 0; i < 5; ++i) {
                    evaluator.evaluate(options_at(0.1 * (t + 1)));
                }
            });
        }
        for (std::thread& thread : threads) {
            thread.join();
        }
        QCOMPARE(log.computed.load(), 20);
        QCOMPARE(log.made.load(), 1);
        QVERIFY(!log.overlapped.load());
    }

    // The app's rule: logits without --logits keep dice; the refusal is the
    // engine's message.
    void displayKeepsTheHardMetrics()
    {
        PairEvaluator evaluator(square_prediction(2.0F), square_target(),
                                resolve_compute_device(gpu::DeviceChoice::Cpu));
        const auto outcome = evaluator.evaluate_for_display(options_at(0.5, {Metric::Bce, Metric::Dice}));
        QVERIFY(outcome.refusal.find("[0, 1]") != std::string::npos || !outcome.refusal.empty());
        QCOMPARE(outcome.evaluation->metrics, std::vector<Metric>{Metric::Dice});
        const Evaluation dice =
            evaluate(*square_prediction(2.0F), *square_target(), options_at(0.5, {Metric::Dice}));
        QVERIFY(same_values(*outcome.evaluation, dice));
        // In range: nothing dropped, no refusal.
        PairEvaluator in_range(square_prediction(), square_target(),
                               resolve_compute_device(gpu::DeviceChoice::Cpu));
        const auto full = in_range.evaluate_for_display(options_at(0.5, {Metric::Bce, Metric::Dice}));
        QVERIFY(full.refusal.empty());
        QCOMPARE(full.evaluation->metrics.size(), std::size_t{2});
    }

    void evaluatorIsReusedOnlyForTheSamePair()
    {
        auto prediction = square_prediction();
        auto target = square_target();
        const ComputeDevice cpu = resolve_compute_device(gpu::DeviceChoice::Cpu);
        auto first = evaluator_for(nullptr, prediction, target, cpu);
        QCOMPARE(evaluator_for(first, prediction, target, cpu), first);
        QVERIFY(evaluator_for(first, prediction, square_target(), cpu) != first);
        QVERIFY(evaluator_for(first, square_prediction(), target, cpu) != first);
    }

    // The CLI's one-shot path: auto falls back with a note, --device cuda
    // does not (without a usable CUDA path here).
    void oneShotEvaluationFollowsTheFallbackFlag()
    {
        if (gpu::cuda_path_available()) {
            QSKIP("a CUDA device is present: the fallback cannot be provoked here");
        }
        std::string note;
        const Evaluation evaluation =
            evaluate_once(gpu_device(true), *square_prediction(), *square_target(), options_at(0.5), &note);
        QVERIFY(!note.empty());
        QVERIFY(same_values(evaluation, evaluate(*square_prediction(), *square_target(), options_at(0.5))));
        try {
            evaluate_once(gpu_device(false), *square_prediction(), *square_target(), options_at(0.5));
            QFAIL("no fallback for --device cuda");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Device);
        }
    }
};

QTEST_APPLESS_MAIN(TestService)
#include "test_service.moc"
