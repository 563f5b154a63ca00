// The sums of one chunk's probability terms (bce, squared and absolute error,
// the overlap sums) in a single pass over the chunk: the fast path of the
// statistics pass when a chunk goes to one region (slicing along D or H).
// Private to the engine; accumulate_chunk (chunk_terms.h) calls it.
//
// Why: evaluating each term into a buffer and summing that buffer in double
// (SumSink::add) reads and writes the chunk once per term; here each block of
// one SIMD packet is loaded once and every term is evaluated on it while it
// is in registers, with the same voxel_terms.h formulas on the same Eigen
// packets, so every element's value is bit for bit the one SumSink::add
// sums. Only the order of the additions differs (see kFlushBlocks).
#pragma once

#include "masklens/engine/pass_output.h"
#include "masklens/engine/voxel_terms.h"

#include <Eigen/Core>

#include <cstdint>

namespace masklens::detail {

// Which binary cross-entropy form a chunk sums.
enum class BceForm {
    None,         // bce not asked for
    BinaryTarget, // every target value is 0 or 1: one logarithm per element
    SoftTarget,   // targets anywhere in [0, 1]: two logarithms
    Logits,       // from the logits (bce_with_logits), any target in [0, 1]
};

// Elements per block: one SIMD packet of Real.
template <class Real> inline constexpr int kBlockLanes = Eigen::internal::packet_traits<Real>::size;

// Blocks summed lane by lane in Real before each lane moves into a double
// sum. Every term is nonnegative, so a lane's Real sum of 16 terms is within
// 16 * 2^-24 (< 1e-6) relative of its exact value for float, and the chunk's
// sums keep that bound; adding in Real is what lets the loop stay in
// registers.
inline constexpr int kFlushBlocks = 16;

// The terms of a block, evaluated on whole packets. `p`, `t`: Eigen
// expressions of kBlockLanes<Real> elements.
template <class Real, BceForm kBce, bool kSubnormal, class X, class P, class T>
auto block_bce(const X& x, const P& p, const T& t)
{
    using Block = Eigen::Array<Real, kBlockLanes<Real>, 1>;
    if constexpr (kBce == BceForm::Logits) {
        return Block(terms::bce_with_logits(x, t));
    } else if constexpr (kBce == BceForm::BinaryTarget) {
        const Block u = terms::binary_target_argument(p, t);
        return Block(terms::bce_binary_target_of<kSubnormal>(u, p, t));
    } else {
        static_assert(kBce == BceForm::SoftTarget, "no bce: the caller adds none");
        return Block(terms::bce<kSubnormal>(p, t));
    }
}

// Adds the sums of elements [0, count) of probabilities p and targets t to
// `stats`: bce in `kBce`'s form (kSubnormal: exact logarithms of float32
// subnormal probabilities; BceForm::Logits reads the logits x, whose
// sigmoid p is), and with kMoments the squared and absolute errors and the
// overlap sums, of which only the fields `needs` asks for are added. Reads
// [0, count) of each array only (no padding needed); x is unused (may be
// null) unless kBce is Logits.
// gnu::flatten inlines every call (Eigen's packet logarithm included): an
// out-of-line call per packet would spill the running sums to memory.
template <class Real, BceForm kBce, bool kSubnormal, bool kMoments>
[[gnu::flatten]] void sum_probability_terms(const Real* x_data, const Real* p_data, const Real* t_data,
                                            std::int64_t count, const TermNeeds& needs, RegionStats& stats)
{
    constexpr int kLanes = kBlockLanes<Real>;
    using Block = Eigen::Array<Real, kLanes, 1>;
    using Wide = Eigen::Array<double, kLanes, 1>;
    using BlockMap = Eigen::Map<const Block>;

    // Per term: a Real sum per lane over at most kFlushBlocks blocks, and a
    // double sum per lane over the chunk.
    enum { kBceSum, kSquared, kAbsolute, kPred, kTarget, kOverlap, kTerms };
    Block partial[kTerms];
    Wide total[kTerms];
    for (int k = 0; k < kTerms; ++k) {
        partial[k].setZero();
        total[k].setZero();
    }
    const auto flush = [&] {
        for (int k = 0; k < kTerms; ++k) {
            total[k] += partial[k].template cast<double>();
            partial[k].setZero();
        }
    };
    const auto add_block = [&](const auto& x, const auto& p, const auto& t) {
        if constexpr (kBce != BceForm::None) {
            partial[kBceSum] += block_bce<Real, kBce, kSubnormal>(x, p, t);
        }
        if constexpr (kMoments) {
            partial[kSquared] += terms::squared_error(p, t);
            partial[kAbsolute] += terms::absolute_error(p, t);
            partial[kPred] += p;
            partial[kTarget] += t;
            partial[kOverlap] += p * t;
        }
    };

    const std::int64_t whole = count / kLanes * kLanes;
    int blocks = 0;
    for (std::int64_t i = 0; i < whole; i += kLanes) {
        add_block(BlockMap((kBce == BceForm::Logits ? x_data : p_data) + i), BlockMap(p_data + i),
                  BlockMap(t_data + i));
        if (++blocks == kFlushBlocks) {
            flush();
            blocks = 0;
        }
    }
    flush();
    if (whole < count) {
        // The last, partial block: evaluated on a whole packet (padded with
        // p = t = 0), its valid lanes added one by one.
        Block x = Block::Zero(), p = Block::Zero(), t = Block::Zero();
        const auto rest = static_cast<int>(count - whole);
        for (int k = 0; k < rest; ++k) {
            x[k] = kBce == BceForm::Logits ? x_data[whole + k] : Real(0);
            p[k] = p_data[whole + k];
            t[k] = t_data[whole + k];
        }
        add_block(x, p, t);
        for (int k = 0; k < kTerms; ++k) {
            for (int lane = 0; lane < rest; ++lane) {
                total[k][lane] += static_cast<double>(partial[k][lane]);
            }
        }
    }

    if constexpr (kBce != BceForm::None) {
        stats.bce += total[kBceSum].sum();
    }
    if constexpr (kMoments) {
        if (needs.squared) {
            stats.squared_error += total[kSquared].sum();
        }
        if (needs.absolute) {
            stats.absolute_error += total[kAbsolute].sum();
        }
        if (needs.overlap) {
            stats.pred_sum += total[kPred].sum();
            stats.target_sum += total[kTarget].sum();
            stats.overlap_sum += total[kOverlap].sum();
        }
    }
}

// Chooses sum_probability_terms' instantiation for a chunk (`logits`: the
// logits whose sigmoid p is, or null for probabilities).
template <class Real>
void sum_probability_terms(const Real* logits, const Real* p, const Real* t, std::int64_t count,
                           const TermNeeds& needs, bool subnormal, RegionStats& stats)
{
    const bool moments = needs.squared || needs.absolute || needs.overlap;
    const auto with_moments = [&]<BceForm kBce, bool kSubnormal>() {
        moments ? sum_probability_terms<Real, kBce, kSubnormal, true>(logits, p, t, count, needs, stats)
                : sum_probability_terms<Real, kBce, kSubnormal, false>(logits, p, t, count, needs, stats);
    };
    if (!needs.bce && !moments) {
        return; // hard counts only
    }
    if (!needs.bce) {
        with_moments.template operator()<BceForm::None, false>();
    } else if (logits) {
        with_moments.template operator()<BceForm::Logits, false>();
    } else if (needs.binary_target) {
        subnormal ? with_moments.template operator()<BceForm::BinaryTarget, true>()
                  : with_moments.template operator()<BceForm::BinaryTarget, false>();
    } else {
        subnormal ? with_moments.template operator()<BceForm::SoftTarget, true>()
                  : with_moments.template operator()<BceForm::SoftTarget, false>();
    }
}

} // namespace masklens::detail
