// The CUDA path's host logic, which needs no GPU: backend choice, the
// translation of options for the kernels, chunk planning, copy ranges, index
// mapping and the merging of chunk results into the pass output. Also checks
// that the device entry points fail cleanly (Error(Device)) where no device
// can be used.
#include "masklens/engine/error.h"
#include "masklens/engine/pass_output.h"
#include "masklens/gpu/backend.h"
#include "masklens/gpu/chunk_plan.h"
#include "masklens/gpu/component_plan.h"
#include "masklens/gpu/cuda_components.h"
#include "masklens/gpu/cuda_statistics.h"

#include <QtTest>

#include <cstring>
#include <random>
#include <set>
#include <vector>

using namespace masklens;
using namespace masklens::gpu;

namespace {

Shape make_shape(std::int64_t n, std::int64_t c, std::int64_t d, std::int64_t h, std::int64_t w)
{
    Shape shape;
    shape.n = n;
    shape.c = c;
    shape.d = d;
    shape.h = h;
    shape.w = w;
    shape.spatial_dims = d > 1 ? 3 : 2;
    return shape;
}

ChunkProblem chunk_problem(const Shape& shape, std::size_t budget, PairingMode pairing = PairingMode::Binary,
                           SliceAxis axis = SliceAxis::D)
{
    ChunkProblem problem;
    problem.shape = shape;
    problem.prediction_element_bytes = 4;
    problem.target_element_bytes = 1;
    problem.pairing = pairing;
    problem.axis = axis;
    problem.budget_bytes = budget;
    return problem;
}

// Every (sample, depth) plane exactly once, in order; each chunk whole
// samples or a depth range of one sample.
void verify_cover(const Shape& shape, const ChunkPlan& plan)
{
    std::int64_t n = 0, d = 0;
    for (const Chunk& chunk : plan.chunks) {
        QVERIFY(chunk.samples() >= 1 && chunk.depth() >= 1);
        QVERIFY(chunk.samples() == 1 || (chunk.depth_begin == 0 && chunk.depth_end == shape.d));
        QCOMPARE(chunk.sample_begin, n);
        QCOMPARE(chunk.depth_begin, d);
        if (chunk.depth_end == shape.d) {
            n = chunk.sample_end;
            d = 0;
        } else {
            d = chunk.depth_end;
        }
    }
    QCOMPARE(n, shape.n);
    QCOMPARE(d, std::int64_t{0});
}

Volume volume_of(const std::string& name, ScalarType type, const Shape& shape)
{
    Volume volume(name, type, shape);
    std::memset(volume.data(), 0, volume.byte_size());
    return volume;
}

// A host workspace with the layout the kernels would fill.
struct FakeWorkspace {
    WorkspaceLayout layout;
    std::vector<std::byte> bytes;

    FakeWorkspace(std::int64_t regions, std::int64_t channels, KernelPairing pairing)
        : layout(workspace_layout(regions, channels, pairing)), bytes(layout.total_bytes)
    {
        DeviceViolations none;
        std::memcpy(bytes.data() + layout.violations_offset, &none, sizeof none);
    }
    DeviceRegion& region(std::int64_t index)
    {
        return reinterpret_cast<DeviceRegion*>(bytes.data() + layout.regions_offset)[index];
    }
    DeviceRegion& channel_region(std::int64_t index)
    {
        return reinterpret_cast<DeviceRegion*>(bytes.data() + layout.channel_offset)[index];
    }
    unsigned long long& bin(std::int64_t region, int kind, int label)
    {
        auto* bins = reinterpret_cast<unsigned long long*>(bytes.data() + layout.histogram_offset);
        return bins[(region * kHistogramKinds + kind) * kHistogramLabels + label];
    }
    void set_violations(const DeviceViolations& violations)
    {
        std::memcpy(bytes.data() + layout.violations_offset, &violations, sizeof violations);
    }
    ChunkResults results() const { return read_workspace(bytes.data(), layout); }
};

} // namespace

class GpuHostLogicTest : public QObject {
    Q_OBJECT

private slots:
    // ---- backend choice ----------------------------------------------------------------

    void device_choice_parses()
    {
        QCOMPARE(parse_device_choice("auto"), DeviceChoice::Auto);
        QCOMPARE(parse_device_choice("cpu"), DeviceChoice::Cpu);
        QCOMPARE(parse_device_choice("cuda"), DeviceChoice::Cuda);
        try {
            parse_device_choice("tpu");
            QFAIL("no error");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Usage);
        }
    }

    void choice_without_cuda_build()
    {
        DeviceReport report;
        report.detail = "this build has no CUDA path";
        QCOMPARE(choose_device(DeviceChoice::Cpu, report).name, std::string("cpu"));
        QVERIFY(choose_device(DeviceChoice::Cpu, report).note.empty());
        const ResolvedDevice automatic = choose_device(DeviceChoice::Auto, report);
        QCOMPARE(automatic.name, std::string("cpu"));
        QVERIFY(automatic.note.find("no CUDA path") != std::string::npos);
        QVERIFY(automatic.note.find('\n') == std::string::npos);
        try {
            choose_device(DeviceChoice::Cuda, report);
            QFAIL("no error");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Device);
            QVERIFY(error.message().find("--device cuda") == 0);
            QVERIFY(error.message().find("no CUDA path") != std::string::npos);
        }
    }

    void choice_with_build_but_no_device()
    {
        DeviceReport report;
        report.cuda_built = true;
        report.detail = "the CUDA runtime reports 0 devices";
        QCOMPARE(choose_device(DeviceChoice::Auto, report).name, std::string("cpu"));
        QVERIFY(choose_device(DeviceChoice::Auto, report).note.find("no CUDA device") != std::string::npos);
        try {
            choose_device(DeviceChoice::Cuda, report);
            QFAIL("no error");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Device);
            QVERIFY(error.message().find("no CUDA device is present") != std::string::npos);
            QVERIFY(error.message().find("0 devices") != std::string::npos);
        }
    }

    void choice_with_device()
    {
        DeviceReport report;
        report.cuda_built = true;
        report.device_count = 1;
        report.device_name = "NVIDIA H200";
        QCOMPARE(choose_device(DeviceChoice::Cuda, report).name, std::string("cuda"));
        QVERIFY(choose_device(DeviceChoice::Cuda, report).note.empty());
        const ResolvedDevice automatic = choose_device(DeviceChoice::Auto, report);
        QCOMPARE(automatic.name, std::string("cuda"));
        QVERIFY(automatic.note.find("NVIDIA H200") != std::string::npos);
        QCOMPARE(choose_device(DeviceChoice::Cpu, report).name, std::string("cpu"));
    }

    void resolve_matches_this_machine()
    {
        QCOMPARE(resolve_device(DeviceChoice::Cpu).name, std::string("cpu"));
        const ResolvedDevice automatic = resolve_device(DeviceChoice::Auto);
        QCOMPARE(automatic.name, std::string(cuda_path_available() ? "cuda" : "cpu"));
        QVERIFY(!automatic.note.empty());
        const DeviceReport report = query_devices();
        QCOMPARE(report.cuda_built, cuda_path_built());
        if (!cuda_path_available()) {
            QVERIFY_THROWS_EXCEPTION(Error, resolve_device(DeviceChoice::Cuda));
        }
    }

    void device_entry_points_fail_cleanly_without_a_device()
    {
        if (cuda_path_available()) {
            QSKIP("a CUDA device is present: covered by test_gpu_parity");
        }
        const Shape shape = make_shape(1, 1, 1, 2, 2);
        const Volume p = volume_of("p.npy", ScalarType::Float32, shape);
        const Volume t = volume_of("t.npy", ScalarType::UInt8, shape);
        try {
            compute_statistics_cuda(p, t, StatisticsOptions{});
            QFAIL("no error");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Device);
            QVERIFY(!error.message().empty());
        }
        try {
            DeviceSession session(p, t);
            QFAIL("no error");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Device);
        }
        // evaluate_on falls through to the CPU for "cpu".
        const Evaluation evaluation = evaluate_on("cpu", p, t, StatisticsOptions{});
        QCOMPARE(evaluation.statistics.slices.size(), std::size_t{1});
    }

    // ---- connected components (cuda_components.h) ------------------------------------

    // The half-neighbourhoods the kernel joins: every earlier neighbour of
    // the connectivity, each once.
    void component_neighbours_are_the_earlier_half()
    {
        const std::vector<std::pair<int, int>> expected = {{6, 3}, {18, 9}, {26, 13}, {4, 2}, {8, 4}};
        for (const auto& [connectivity, count] : expected) {
            int offsets[13][3];
            QCOMPARE(backward_neighbours(connectivity, offsets), count);
            for (int k = 0; k < count; ++k) {
                const int raster = (offsets[k][0] * 3 + offsets[k][1]) * 3 + offsets[k][2];
                QVERIFY(raster < 0); // comes earlier in raster order
            }
        }
    }

    // The device algorithm emulated on the host (the kernels' own bodies:
    // init, unite under the smaller root, flatten) gives every voxel its
    // root, and the host's renumbering gives the CPU labeller's labels
    // exactly, on random masks of every connectivity.
    void component_kernels_emulated_equal_the_cpu_labels()
    {
        std::mt19937 random(11);
        for (const double density : {0.1, 0.3, 0.6}) {
            std::bernoulli_distribution on(density);
            for (const auto& [grid, connectivities] : std::vector<std::pair<ComponentGrid, std::vector<int>>>{
                     {{9, 11, 13, 3}, {6, 18, 26}}, {{1, 23, 29, 2}, {4, 8}}}) {
                std::vector<std::uint8_t> mask(static_cast<std::size_t>(grid.voxels()));
                for (auto& v : mask) {
                    v = on(random) ? 1 : 0;
                }
                for (const int connectivity : connectivities) {
                    const Components cpu = label_components(mask.data(), grid, connectivity, 1);
                    std::vector<std::uint32_t> parents(mask.size());
                    union_find_parents_on_host(mask.data(), grid, connectivity, parents.data());
                    // label_parents' contract: background kNoParent, else a root.
                    for (std::size_t i = 0; i < parents.size(); ++i) {
                        QCOMPARE(parents[i] == kNoParent, mask[i] == 0);
                        QVERIFY(parents[i] == kNoParent || parents[parents[i]] == parents[i]);
                    }
                    const std::int64_t count = renumber_roots(parents.data(), grid.voxels(), "mask");
                    QCOMPARE(count, cpu.count);
                    QVERIFY(std::equal(parents.begin(), parents.end(), cpu.labels.begin()));
                }
            }
        }
    }

    // A parent array that is not roots-first is a device error, not labels.
    void renumbering_refuses_a_broken_parent_array()
    {
        std::vector<std::uint32_t> parents = {kNoParent, 1, 3, 3};
        try {
            renumber_roots(parents.data(), 4, "mask");
            QFAIL("no error");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Device);
        }
        std::vector<std::uint32_t> good = {kNoParent, 1, 1, 3};
        QCOMPARE(renumber_roots(good.data(), 4, "mask"), std::int64_t{2});
        QVERIFY((good == std::vector<std::uint32_t>{0, 1, 1, 2}));
    }

    void component_labelling_without_a_device_is_a_device_error()
    {
        if (cuda_path_available()) {
            QSKIP("a CUDA device is present: covered by test_gpu_parity");
        }
        const std::vector<std::uint8_t> mask(8, 1);
        try {
            label_components_cuda(mask.data(), {2, 2, 2, 3}, 26);
            QFAIL("no error");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Device);
        }
    }

    // ---- options for the kernels -------------------------------------------------------

    void element_types_follow_scalar_types()
    {
        QCOMPARE(element_type(ScalarType::Bool), ElementType::Bool);
        QCOMPARE(element_type(ScalarType::Int8), ElementType::Int8);
        QCOMPARE(element_type(ScalarType::UInt16), ElementType::UInt16);
        QCOMPARE(element_type(ScalarType::Int64), ElementType::Int64);
        QCOMPARE(element_type(ScalarType::Float16), ElementType::Float16);
        QCOMPARE(element_type(ScalarType::Float32), ElementType::Float32);
        QCOMPARE(element_type(ScalarType::Float64), ElementType::Float64);
        for (int type = 0; type <= static_cast<int>(ScalarType::Float64); ++type) {
            const auto scalar = static_cast<ScalarType>(type);
            QCOMPARE(element_bytes(element_type(scalar)), scalar_size(scalar));
            QCOMPARE(is_floating_element(element_type(scalar)), is_floating(scalar));
        }
        QCOMPARE(kernel_axis(SliceAxis::D), KernelAxis::D);
        QCOMPARE(kernel_axis(SliceAxis::H), KernelAxis::H);
        QCOMPARE(kernel_axis(SliceAxis::W), KernelAxis::W);
        QCOMPARE(kernel_pairing(PairingMode::ChannelOneHot), KernelPairing::ChannelOneHot);
        QCOMPARE(kernel_pairing(PairingMode::LabelMaps), KernelPairing::LabelMaps);
    }

    void needs_follow_the_cpu_rule()
    {
        MetricOptions options;
        const gpu::TermNeeds all = term_needs({}, options, PairingMode::Binary);
        QVERIFY(all.bce && all.focal && all.squared && all.absolute && all.overlap && all.hard &&
                all.range_check);

        const gpu::TermNeeds dice = term_needs({Metric::Dice}, options, PairingMode::Binary);
        QVERIFY(dice.hard && !dice.overlap && !dice.bce && !dice.focal && !dice.range_check);

        const gpu::TermNeeds bce = term_needs({Metric::Bce}, options, PairingMode::Binary);
        QVERIFY(bce.bce && bce.range_check && !bce.hard && !bce.squared);

        MetricOptions logits;
        logits.activation = Activation::Sigmoid;
        QVERIFY(!term_needs({Metric::Bce, Metric::FocalLoss}, logits, PairingMode::Binary).range_check);

        const gpu::TermNeeds labels = term_needs({Metric::Mse}, options, PairingMode::LabelMaps);
        QVERIFY(labels.squared && labels.hard && labels.overlap && !labels.range_check);

        const gpu::TermNeeds loss = term_needs({Metric::TverskyLoss}, options, PairingMode::Binary);
        QVERIFY(loss.overlap && !loss.hard);
    }

    // Which passes the kernels compute: not the exclusive rules (softmax,
    // argmax), one-hot targets or multi-label per-channel labels (their pass
    // runs on the CPU), nor label maps at a threshold outside (0, 1], where
    // label 0 cannot come from the binary counts.
    void kernels_cover_only_what_they_compute()
    {
        PassPlan plan;
        MetricOptions metric;
        plan.pairing = PairingMode::Binary;
        QVERIFY(kernels_cover(plan, metric));
        metric.activation = Activation::Sigmoid;
        QVERIFY(kernels_cover(plan, metric));
        plan.pairing = PairingMode::ChannelOneHot;
        plan.channel_labels = 4;
        QVERIFY(kernels_cover(plan, metric));
        metric.activation = Activation::Softmax;
        QVERIFY(!kernels_cover(plan, metric));
        metric.activation = Activation::None;
        metric.decision = Decision::Argmax;
        QVERIFY(!kernels_cover(plan, metric));
        metric.decision = Decision::Threshold;
        plan.pairing = PairingMode::OneHotTarget;
        QVERIFY(!kernels_cover(plan, metric));
        plan.pairing = PairingMode::Binary; // multi-label channels
        QVERIFY(!kernels_cover(plan, metric));
        plan.channel_labels = 0;
        plan.pairing = PairingMode::LabelMaps;
        QVERIFY(kernels_cover(plan, metric));
        for (const double threshold : {0.0, 1.5, -1.0}) {
            metric.threshold = threshold;
            QVERIFY(!kernels_cover(plan, metric));
        }
        metric.threshold = 1.0;
        QVERIFY(kernels_cover(plan, metric));
    }

    // Label 0 from a region's binary counts (the CUDA histogram counts labels
    // >= 1 only) equals the CPU pass's voxel-by-voxel count of label 0.
    void background_label_from_binary_counts_equals_the_cpu_count()
    {
        Shape shape;
        shape.d = 3;
        shape.h = 5;
        shape.w = 7;
        shape.spatial_dims = 3;
        std::mt19937 random(5);
        std::uniform_int_distribution<int> label(0, 3);
        Volume prediction("pred", ScalarType::UInt8, shape), target("target", ScalarType::UInt8, shape);
        for (std::int64_t i = 0; i < shape.elements(); ++i) {
            prediction.data_as<std::uint8_t>()[i] = static_cast<std::uint8_t>(label(random));
            target.data_as<std::uint8_t>()[i] = static_cast<std::uint8_t>(label(random));
        }
        StatisticsOptions options;
        options.metrics = {Metric::Tp};
        options.include_background = true;
        const BatchStatistics cpu = compute_statistics(prediction, target, options);
        QCOMPARE(cpu.labels.front(), std::int64_t{0});
        PassOutput output;
        for (std::int64_t s = 0; s < cpu.slices_per_sample; ++s) {
            output.slices.push_back(cpu.slice(0, s));
            output.sparse_labels.emplace_back();
        }
        derive_background_label(output);
        for (std::int64_t s = 0; s < cpu.slices_per_sample; ++s) {
            const LabelCounts derived = output.sparse_labels[static_cast<std::size_t>(s)].at(0);
            const RegionStats& counted = cpu.label_slice(0, s, 0);
            QCOMPARE(derived.predicted, counted.pred_positive);
            QCOMPARE(derived.target, counted.target_positive);
            QCOMPARE(derived.both, counted.true_positive);
        }
    }

    void term_options_copy_the_metric_options()
    {
        MetricOptions options;
        options.threshold = 0.3;
        options.focal_gamma = 1.5;
        options.activation = Activation::Sigmoid;
        TermOptions terms = term_options(options);
        QCOMPARE(terms.threshold, 0.3);
        QCOMPARE(terms.focal_gamma, 1.5);
        QVERIFY(terms.logits);
        QVERIFY(!terms.has_focal_alpha);
        options.focal_alpha = 0.75;
        terms = term_options(options);
        QVERIFY(terms.has_focal_alpha);
        QCOMPARE(terms.focal_alpha, 0.75);
    }

    void problems_are_validated()
    {
        KernelProblem problem;
        int storage = 0;
        problem.prediction = &storage;
        problem.target = &storage;
        QVERIFY(valid_problem(problem, true));
        KernelProblem no_pointers = problem;
        no_pointers.target = nullptr;
        QVERIFY(!valid_problem(no_pointers, true));
        QVERIFY(valid_problem(no_pointers, false));
        KernelProblem empty = problem;
        empty.h = 0;
        QVERIFY(!valid_problem(empty, false));
        KernelProblem labels = problem;
        labels.pairing = KernelPairing::LabelMaps;
        QVERIFY(!valid_problem(labels, false)); // float prediction
        labels.prediction_type = ElementType::Int32;
        QVERIFY(valid_problem(labels, false));
        labels.c = 2;
        QVERIFY(!valid_problem(labels, false));
        KernelProblem one_hot = problem;
        one_hot.pairing = KernelPairing::ChannelOneHot;
        one_hot.c = 4;
        QVERIFY(valid_problem(one_hot, false));
        one_hot.target_type = ElementType::Float32;
        QVERIFY(!valid_problem(one_hot, false));
    }

    void workspace_layout_is_aligned_and_sized()
    {
        const WorkspaceLayout binary = workspace_layout(10, 3, KernelPairing::Binary);
        QCOMPARE(binary.regions, std::int64_t{10});
        QCOMPARE(binary.channel_regions, std::int64_t{0});
        QCOMPARE(binary.histogram_regions, std::int64_t{0});
        QVERIFY(binary.channel_offset >= 10 * sizeof(DeviceRegion));
        const WorkspaceLayout one_hot = workspace_layout(10, 3, KernelPairing::ChannelOneHot);
        QCOMPARE(one_hot.channel_regions, std::int64_t{30});
        QVERIFY(one_hot.histogram_offset >= one_hot.channel_offset + 30 * sizeof(DeviceRegion));
        const WorkspaceLayout labels = workspace_layout(10, 1, KernelPairing::LabelMaps);
        QCOMPARE(labels.histogram_regions, std::int64_t{10});
        QVERIFY(labels.violations_offset >= labels.histogram_offset + 10 * kHistogramKinds *
                                                                          kHistogramLabels *
                                                                          sizeof(unsigned long long));
        for (const WorkspaceLayout& layout : {binary, one_hot, labels}) {
            for (std::size_t offset : {layout.regions_offset, layout.channel_offset, layout.histogram_offset,
                                       layout.violations_offset, layout.total_bytes}) {
                QCOMPARE(offset % kWorkspaceAlignment, std::size_t{0});
            }
            QVERIFY(layout.total_bytes >= layout.violations_offset + sizeof(DeviceViolations));
        }
    }

    // ---- chunk planning ----------------------------------------------------------------

    void one_voxel_is_one_chunk()
    {
        const Shape shape = make_shape(1, 1, 1, 1, 1);
        const ChunkPlan plan = plan_chunks(chunk_problem(shape, 1 << 20));
        QCOMPARE(plan.chunks.size(), std::size_t{1});
        QCOMPARE(plan.chunks[0], (Chunk{0, 1, 0, 1}));
        QCOMPARE(plan.buffers, 1);
        QVERIFY(plan.device_bytes() <= std::size_t{1} << 20);
    }

    void budget_exactly_fitting_the_batch_is_one_chunk()
    {
        const Shape shape = make_shape(4, 2, 6, 10, 12);
        const ChunkProblem problem = chunk_problem(shape, 0);
        const std::size_t whole = chunk_device_bytes(problem, Chunk{0, 4, 0, 6});
        QCOMPARE(whole, chunk_prediction_bytes(problem, Chunk{0, 4, 0, 6}) +
                            chunk_target_bytes(problem, Chunk{0, 4, 0, 6}) +
                            chunk_workspace_bytes(problem, Chunk{0, 4, 0, 6}));
        QVERIFY(chunk_prediction_bytes(problem, Chunk{0, 4, 0, 6}) >= std::size_t{4 * 2 * 6 * 10 * 12 * 4});
        const ChunkPlan exact = plan_chunks(chunk_problem(shape, whole));
        QCOMPARE(exact.chunks.size(), std::size_t{1});
        QCOMPARE(exact.device_bytes(), whole);
        const ChunkPlan short_by_one = plan_chunks(chunk_problem(shape, whole - 1));
        QVERIFY(short_by_one.chunks.size() > 1);
        QCOMPARE(short_by_one.buffers, 2);
        QVERIFY(short_by_one.device_bytes() <= whole - 1);
        verify_cover(shape, short_by_one);
    }

    void batch_splits_into_whole_samples()
    {
        const Shape shape = make_shape(10, 1, 4, 32, 32);
        const ChunkProblem probe = chunk_problem(shape, 0);
        const std::size_t three = chunk_device_bytes(probe, Chunk{0, 3, 0, 4});
        const ChunkPlan plan = plan_chunks(chunk_problem(shape, 2 * three));
        QCOMPARE(plan.chunks.size(), std::size_t{4});
        QCOMPARE(plan.chunks[0], (Chunk{0, 3, 0, 4}));
        QCOMPARE(plan.chunks[3], (Chunk{9, 10, 0, 4}));
        QCOMPARE(plan.buffers, 2);
        QCOMPARE(plan.buffer_set_bytes(), three);
        QVERIFY(plan.device_bytes() <= 2 * three);
        verify_cover(shape, plan);
    }

    void large_sample_splits_into_depth_ranges()
    {
        const Shape shape = make_shape(2, 3, 10, 16, 16);
        const ChunkProblem probe = chunk_problem(shape, 0, PairingMode::ChannelOneHot);
        const std::size_t four = chunk_device_bytes(probe, Chunk{0, 1, 0, 4});
        // One-hot targets have one channel: the target is a third of the prediction's count.
        QCOMPARE(chunk_target_bytes(probe, Chunk{0, 1, 0, 4}), align_workspace(4 * 16 * 16));
        const ChunkPlan plan = plan_chunks(chunk_problem(shape, 2 * four, PairingMode::ChannelOneHot));
        const std::vector<Chunk> expected{{0, 1, 0, 4}, {0, 1, 4, 8}, {0, 1, 8, 10},
                                          {1, 2, 0, 4}, {1, 2, 4, 8}, {1, 2, 8, 10}};
        QCOMPARE(plan.chunks, expected);
        QCOMPARE(plan.buffers, 2);
        verify_cover(shape, plan);
    }

    void plane_larger_than_half_the_budget_is_a_device_error()
    {
        const Shape shape = make_shape(1, 1, 8, 64, 64);
        const ChunkProblem probe = chunk_problem(shape, 0);
        const std::size_t plane = chunk_device_bytes(probe, Chunk{0, 1, 0, 1});
        QCOMPARE(plan_chunks(chunk_problem(shape, 2 * plane)).chunks.size(), std::size_t{8});
        try {
            plan_chunks(chunk_problem(shape, 2 * plane - 1));
            QFAIL("no error");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Device);
            QVERIFY2(error.message().find("plane") != std::string::npos, error.what());
            QVERIFY2(error.message().find("--device cpu") != std::string::npos, error.what());
        }
    }

    void label_maps_budget_their_histograms()
    {
        const Shape shape = make_shape(2, 1, 8, 4, 4);
        const ChunkProblem binary = chunk_problem(shape, 0, PairingMode::Binary);
        const ChunkProblem labels = chunk_problem(shape, 0, PairingMode::LabelMaps);
        const Chunk whole{0, 2, 0, 8};
        QVERIFY(chunk_workspace_bytes(labels, whole) >=
                chunk_workspace_bytes(binary, whole) +
                    16 * kHistogramKinds * kHistogramLabels * sizeof(unsigned long long) -
                    kWorkspaceAlignment);
        // Slicing along W keeps every W region per chunk whatever its depth.
        const ChunkProblem along_w = chunk_problem(shape, 0, PairingMode::LabelMaps, SliceAxis::W);
        QCOMPARE(chunk_regions(shape, SliceAxis::W, Chunk{0, 1, 2, 3}), std::int64_t{4});
        QCOMPARE(chunk_regions(shape, SliceAxis::D, Chunk{0, 1, 2, 5}), std::int64_t{3});
        QVERIFY(chunk_workspace_bytes(along_w, Chunk{0, 1, 2, 3}) >
                chunk_workspace_bytes(binary, Chunk{0, 1, 2, 3}));
    }

    void random_plans_cover_the_batch_within_budget()
    {
        std::mt19937 generator(5);
        std::uniform_int_distribution<int> extent(1, 9);
        for (int trial = 0; trial < 300; ++trial) {
            const Shape shape = make_shape(extent(generator), extent(generator) % 3 + 1, extent(generator),
                                           extent(generator) * 3, extent(generator) * 5);
            const auto pairing = static_cast<PairingMode>(trial % 3);
            const auto axis = static_cast<SliceAxis>(1 + trial % 3);
            const ChunkProblem probe = chunk_problem(shape, 0, pairing, axis);
            const std::size_t whole = chunk_device_bytes(probe, Chunk{0, shape.n, 0, shape.d});
            const std::size_t plane = chunk_device_bytes(probe, Chunk{0, 1, 0, 1});
            std::uniform_int_distribution<std::size_t> budget_of(2 * plane, whole + 1024);
            const std::size_t budget = budget_of(generator);
            const ChunkPlan plan = plan_chunks(chunk_problem(shape, budget, pairing, axis));
            verify_cover(shape, plan);
            QVERIFY(plan.device_bytes() <= budget);
            for (const Chunk& chunk : plan.chunks) {
                QVERIFY(chunk_device_bytes(probe, chunk) <= plan.buffer_set_bytes());
            }
        }
    }

    // ---- copy ranges and index mapping ------------------------------------------------

    void copy_ranges_of_whole_samples_are_one_range()
    {
        const Shape shape = make_shape(5, 3, 4, 6, 7);
        const std::vector<CopyRange> ranges = chunk_copy_ranges(shape, 3, 4, Chunk{1, 3, 0, 4});
        QCOMPARE(ranges.size(), std::size_t{1});
        QCOMPARE(ranges[0].source_offset, std::size_t{1 * 3 * 4 * 6 * 7 * 4});
        QCOMPARE(ranges[0].length, std::size_t{2 * 3 * 4 * 6 * 7 * 4});
    }

    void copy_ranges_of_a_depth_range_are_one_per_channel()
    {
        const Shape shape = make_shape(2, 3, 10, 2, 5);
        const std::vector<CopyRange> ranges = chunk_copy_ranges(shape, 3, 2, Chunk{1, 2, 4, 7});
        const std::size_t plane = 2 * 5;
        QCOMPARE(ranges.size(), std::size_t{3});
        for (std::size_t c = 0; c < 3; ++c) {
            QCOMPARE(ranges[c].source_offset, ((3 + c) * 10 + 4) * plane * 2);
            QCOMPARE(ranges[c].length, 3 * plane * 2);
        }
        // One channel: the target of a one-hot pair.
        const std::vector<CopyRange> target = chunk_copy_ranges(shape, 1, 1, Chunk{1, 2, 4, 7});
        QCOMPARE(target, (std::vector<CopyRange>{{(10 + 4) * plane, 3 * plane}}));
    }

    void chunk_indices_map_to_the_batch()
    {
        const Shape shape = make_shape(3, 2, 5, 3, 4);
        const Chunk chunk{1, 2, 2, 4};
        // Copy ranges and flat-index mapping agree element by element.
        const std::vector<CopyRange> ranges = chunk_copy_ranges(shape, 2, 1, chunk);
        std::vector<std::int64_t> via_ranges;
        for (const CopyRange& range : ranges) {
            for (std::size_t i = 0; i < range.length; ++i) {
                via_ranges.push_back(static_cast<std::int64_t>(range.source_offset + i));
            }
        }
        const std::int64_t local_count = 2 * 2 * 3 * 4;
        QCOMPARE(static_cast<std::int64_t>(via_ranges.size()), local_count);
        for (std::int64_t local = 0; local < local_count; ++local) {
            QCOMPARE(global_flat_index(shape, 2, chunk, local), via_ranges[static_cast<std::size_t>(local)]);
        }
        // Regions: D keeps the depth offset, H and W do not.
        QCOMPARE(global_region(shape, SliceAxis::D, chunk, 0), std::int64_t{1 * 5 + 2});
        QCOMPARE(global_region(shape, SliceAxis::D, chunk, 1), std::int64_t{1 * 5 + 3});
        QCOMPARE(global_region(shape, SliceAxis::H, chunk, 2), std::int64_t{1 * 3 + 2});
        QCOMPARE(global_region(shape, SliceAxis::W, chunk, 3), std::int64_t{1 * 4 + 3});
        const Chunk samples{1, 3, 0, 5};
        QCOMPARE(global_region(shape, SliceAxis::D, samples, 7), std::int64_t{2 * 5 + 2});
        QCOMPARE(global_region(shape, SliceAxis::W, samples, 5), std::int64_t{2 * 4 + 1});
    }

    // ---- merging -------------------------------------------------------------------------

    void start_output_sets_elements_and_regions()
    {
        const Shape shape = make_shape(2, 3, 4, 5, 6);
        PassPlan plan;
        plan.pairing = PairingMode::ChannelOneHot;
        plan.axis = SliceAxis::H;
        plan.slices_per_sample = 5;
        plan.regions = 10;
        plan.channel_labels = 3;
        const PassOutput output = start_output(shape, plan);
        QCOMPARE(output.slices.size(), std::size_t{10});
        QCOMPARE(output.slices[0].elements, std::int64_t{3 * 4 * 6});
        QCOMPARE(output.channel_label_slices.size(), std::size_t{30});
        QCOMPARE(output.channel_label_slices[7].elements, std::int64_t{4 * 6});
        QVERIFY(output.sparse_labels.empty());
    }

    void depth_chunks_add_up_in_chunk_order()
    {
        // Slicing along H, one sample in two depth chunks: both add to the same regions.
        const Shape shape = make_shape(1, 1, 6, 2, 3);
        PassPlan plan;
        plan.axis = SliceAxis::H;
        plan.slices_per_sample = 2;
        plan.regions = 2;
        PassOutput output = start_output(shape, plan);
        const Chunk first{0, 1, 0, 4}, second{0, 1, 4, 6};
        FakeWorkspace a(2, 1, KernelPairing::Binary), b(2, 1, KernelPairing::Binary);
        a.region(0).squared_error = 0.5;
        a.region(1).pred_sum = 0.25;
        a.region(1).true_positive = 3;
        b.region(0).squared_error = 0.25;
        b.region(1).pred_sum = 0.5;
        b.region(1).true_positive = 2;
        QVERIFY(merge_chunk(shape, plan, first, a.results(), output));
        QVERIFY(merge_chunk(shape, plan, second, b.results(), output));
        QCOMPARE(output.slices[0].squared_error, 0.75);
        QCOMPARE(output.slices[1].pred_sum, 0.75);
        QCOMPARE(output.slices[1].true_positive, std::int64_t{5});
        QCOMPARE(output.slices[0].elements, std::int64_t{6 * 3});
        QCOMPARE(output.range.count, std::int64_t{0});
    }

    void violations_become_batch_indices_and_keep_the_first()
    {
        const Shape shape = make_shape(4, 2, 3, 2, 2);
        PassPlan plan;
        plan.pairing = PairingMode::ChannelOneHot;
        plan.axis = SliceAxis::D;
        plan.slices_per_sample = 3;
        plan.regions = 12;
        plan.channel_labels = 2;
        PassOutput output = start_output(shape, plan);
        const Chunk first{0, 2, 0, 3}, second{2, 4, 0, 3};
        FakeWorkspace a(6, 2, KernelPairing::ChannelOneHot), b(6, 2, KernelPairing::ChannelOneHot);
        DeviceViolations late;
        late.range_count = 2;
        late.range_first = 13; // batch index 2 * 24 + 13
        late.label_count = 1;
        late.label_first = 5;
        b.set_violations(late);
        b.channel_region(6 * 2 - 1).overlap_sum = 2.5;
        QVERIFY(merge_chunk(shape, plan, second, b.results(), output));
        DeviceViolations early;
        early.range_count = 1;
        early.range_first = 30;
        a.set_violations(early);
        QVERIFY(merge_chunk(shape, plan, first, a.results(), output));
        QCOMPARE(output.range.count, std::int64_t{3});
        // Chunk 2 starts at sample 2: its local 13 is batch 2*24 + 13; chunk 1's 30 stays 30.
        QCOMPARE(output.range.first_index, std::int64_t{30});
        QCOMPARE(output.labels.count, std::int64_t{1});
        QCOMPARE(output.labels.first_index, std::int64_t{2 * 12 + 5}); // target: one channel
        QVERIFY(!output.labels.in_prediction);
        QCOMPARE(output.channel_label_slices[static_cast<std::size_t>((2 * 3 + 5) * 2 + 1)].overlap_sum, 2.5);
    }

    void label_histograms_become_sparse_labels()
    {
        const Shape shape = make_shape(1, 1, 2, 3, 3);
        PassPlan plan;
        plan.pairing = PairingMode::LabelMaps;
        plan.axis = SliceAxis::D;
        plan.slices_per_sample = 2;
        plan.regions = 2;
        PassOutput output = start_output(shape, plan);
        QCOMPARE(output.sparse_labels.size(), std::size_t{2});
        FakeWorkspace workspace(2, 1, KernelPairing::LabelMaps);
        workspace.bin(1, kHistogramPredicted, 7) = 4;
        workspace.bin(1, kHistogramTarget, 7) = 5;
        workspace.bin(1, kHistogramBoth, 7) = 3;
        workspace.bin(0, kHistogramTarget, 255) = 1;
        workspace.bin(0, kHistogramPredicted, 0) = 9; // background is never reported
        QVERIFY(merge_chunk(shape, plan, Chunk{0, 1, 0, 2}, workspace.results(), output));
        QCOMPARE(output.sparse_labels[0].entries.size(), std::size_t{1});
        QCOMPARE(output.sparse_labels[0].entries[0].first, std::int64_t{255});
        QCOMPARE(output.sparse_labels[0].entries[0].second.target, std::int64_t{1});
        const LabelCounts counts = output.sparse_labels[1].at(7);
        QCOMPARE(counts.predicted, std::int64_t{4});
        QCOMPARE(counts.target, std::int64_t{5});
        QCOMPARE(counts.both, std::int64_t{3});
        // A label beyond the histogram asks for the CPU.
        FakeWorkspace overflow(2, 1, KernelPairing::LabelMaps);
        DeviceViolations violations;
        violations.label_overflow = 1;
        overflow.set_violations(violations);
        QVERIFY(!merge_chunk(shape, plan, Chunk{0, 1, 0, 2}, overflow.results(), output));
    }

    void label_values_read_back_as_the_cpu_reads_them()
    {
        const Shape shape = make_shape(1, 1, 1, 1, 3);
        Volume signed_labels("labels", ScalarType::Int8, shape);
        signed_labels.data_as<std::int8_t>()[2] = -3;
        QCOMPARE(label_at(signed_labels, 2), std::int64_t{-3});
        Volume wide("wide", ScalarType::UInt64, shape);
        wide.data_as<std::uint64_t>()[1] = 1ull << 40;
        QCOMPARE(label_at(wide, 1), kMaxLabel + 1);
        Volume bytes("bytes", ScalarType::UInt8, shape);
        bytes.data_as<std::uint8_t>()[0] = 200;
        QCOMPARE(label_at(bytes, 0), std::int64_t{200});
    }
};

QTEST_GUILESS_MAIN(GpuHostLogicTest)
#include "test_gpu_host_logic.moc"
