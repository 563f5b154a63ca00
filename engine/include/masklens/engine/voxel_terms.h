// Per-element loss terms: the one copy of the math shared by the CPU pass and
// the CUDA kernels.
//
// Every formula is a template over its argument type V, which is either a
// scalar (float or double, on host or device) or, on the CPU, an Eigen array
// expression, so the CPU pass evaluates the very same formula on SIMD packets.
// For Eigen arguments the functions return unevaluated expressions that
// reference their arguments: keep the arguments alive while using the result.
#pragma once

#include <cmath>
#include <type_traits>

#if defined(__CUDACC__)
#define MASKLENS_HD __host__ __device__
#else
#define MASKLENS_HD
#include "masklens/engine/float_log.h"

#include <Eigen/Core>
#endif

namespace masklens::terms {

// Scalar type of V: V itself for float/double, V::Scalar for Eigen expressions.
template <class V, class = void> struct ScalarOf {
    using type = V;
};
template <class V> struct ScalarOf<V, std::void_t<typename V::Scalar>> {
    using type = typename V::Scalar;
};
template <class V> using scalar_t = typename ScalarOf<V>::type;

// --- elementary operations: scalar overloads -------------------------------
MASKLENS_HD inline float op_log(float x)
{
    return logf(x);
}
MASKLENS_HD inline double op_log(double x)
{
    return log(x);
}
// The scalar logs are exact for subnormal numbers already.
MASKLENS_HD inline float op_log_subnormal(float x)
{
    return logf(x);
}
MASKLENS_HD inline double op_log_subnormal(double x)
{
    return log(x);
}
MASKLENS_HD inline float op_exp(float x)
{
    return expf(x);
}
MASKLENS_HD inline double op_exp(double x)
{
    return exp(x);
}
MASKLENS_HD inline float op_log1p(float x)
{
    return log1pf(x);
}
MASKLENS_HD inline double op_log1p(double x)
{
    return log1p(x);
}
MASKLENS_HD inline float op_abs(float x)
{
    return fabsf(x);
}
MASKLENS_HD inline double op_abs(double x)
{
    return fabs(x);
}
MASKLENS_HD inline float op_max(float x, float bound)
{
    return x > bound ? x : bound;
}
MASKLENS_HD inline double op_max(double x, double bound)
{
    return x > bound ? x : bound;
}
MASKLENS_HD inline float op_min(float x, float bound)
{
    return x < bound ? x : bound;
}
MASKLENS_HD inline double op_min(double x, double bound)
{
    return x < bound ? x : bound;
}
MASKLENS_HD inline float op_select(bool where, float a, float b)
{
    return where ? a : b;
}
MASKLENS_HD inline double op_select(bool where, double a, double b)
{
    return where ? a : b;
}
MASKLENS_HD inline float op_square(float x)
{
    return x * x;
}
MASKLENS_HD inline double op_square(double x)
{
    return x * x;
}
MASKLENS_HD inline float op_pow(float x, float e)
{
    return powf(x, e);
}
MASKLENS_HD inline double op_pow(double x, double e)
{
    return pow(x, e);
}

#if !defined(__CUDACC__)
// --- the same operations on Eigen array expressions (CPU, vectorised) -------
// Float arrays take FloatLog (float_log.h: arguments >= 0, as every loss
// term's are), doubles Eigen's log.
template <class D> auto op_log(const Eigen::ArrayBase<D>& x)
{
    if constexpr (std::is_same_v<typename D::Scalar, float>) {
        return float_log(x);
    } else {
        return x.log();
    }
}
template <class D> auto op_log_subnormal(const Eigen::ArrayBase<D>& x)
{
    using S = typename D::Scalar;
    if constexpr (std::is_same_v<S, float>) {
        // The vectorised float log (FloatLog) reads denormals with the
        // smallest normal exponent (log near -87.3): scale them by 2^23 into
        // the normal range first, so log(1e-45) is -103.3, as the scalar
        // logf gives.
        // tiny is 1 below FLT_MIN, else 0, without a comparison (Eigen 3.4
        // evaluates comparisons and select() one element at a time): below
        // FLT_MIN the gap is at least 2^-149, times 2^149 (in two steps) >= 1.
        const auto tiny =
            (((S(1.17549435e-38F) - x) * S(1.2676506e30F)) * S(5.6294995e14F)).max(S(0)).min(S(1));
        return float_log(x * (S(1) + tiny * S(8388607))) - tiny * S(15.942385152878742);
    } else {
        return x.log();
    }
}
template <class D> auto op_exp(const Eigen::ArrayBase<D>& x)
{
    return x.exp();
}
template <class D> auto op_log1p(const Eigen::ArrayBase<D>& x)
{
    if constexpr (std::is_same_v<typename D::Scalar, float>) {
        return float_log1p(x); // float_log.h: arguments >= 0, as bce_with_logits' are
    } else {
        return x.log1p();
    }
}
template <class D> auto op_abs(const Eigen::ArrayBase<D>& x)
{
    return x.abs();
}
template <class D> auto op_max(const Eigen::ArrayBase<D>& x, typename D::Scalar bound)
{
    return x.max(bound);
}
template <class D> auto op_min(const Eigen::ArrayBase<D>& x, typename D::Scalar bound)
{
    return x.min(bound);
}
// where ? a : b, elementwise.
template <class C, class A, class B>
auto op_select(const Eigen::ArrayBase<C>& where, const Eigen::ArrayBase<A>& a, const Eigen::ArrayBase<B>& b)
{
    return where.select(a, b);
}
template <class D> auto op_square(const Eigen::ArrayBase<D>& x)
{
    return x.square();
}
template <class D> auto op_pow(const Eigen::ArrayBase<D>& x, typename D::Scalar e)
{
    return x.pow(e);
}
#endif

// --- the loss terms ---------------------------------------------------------

// log(x), with kSubnormal exact for float32 subnormal x too (Eigen's
// vectorised log takes them for the smallest normal number, -87.3): the pass
// asks for that only for chunks that hold one (has_subnormal), as it costs.
template <bool kSubnormal, class V> MASKLENS_HD auto log_of(const V& x)
{
    if constexpr (kSubnormal) {
        return op_log_subnormal(x);
    } else {
        return op_log(x);
    }
}

// log(x) clamped below at -100, as torch.nn.functional.binary_cross_entropy
// does: a certain and wrong prediction costs exactly 100, never infinity.
template <bool kSubnormal = false, class V> MASKLENS_HD auto clamped_log(const V& x)
{
    using S = scalar_t<V>;
    return op_max(log_of<kSubnormal>(x), S(-100));
}

// log(1 - p) to float precision for small p too, where 1 - p alone rounds
// most of p's digits away: u = fl(1 - p), and the rounding e = (1 - u) - p
// (exact: 1 - u is exact near 1) is added back, log(u + e) ~ log(u) + e (the
// error is e p / (1 - p), below float precision). u == 1 gives -p. No
// division, branch or select, so that Eigen vectorises it (Eigen 3.4
// evaluates select() one element at a time).
// kSubnormal (exact logs of float32 subnormals) only costs: for normal
// numbers both logarithms agree bit for bit, so the pass asks for it only in
// chunks that hold a subnormal probability.
template <bool kSubnormal = false, class P> MASKLENS_HD auto log_one_minus(const P& p)
{
    using S = scalar_t<P>;
    const auto u = S(1) - p;
    return log_of<kSubnormal>(u) + ((S(1) - u) - p);
}

// Binary cross-entropy of probability p against target t (both in [0, 1]),
// each log clamped at -100 as PyTorch does.
template <bool kSubnormal = false, class P, class T> MASKLENS_HD auto bce(const P& p, const T& t)
{
    using S = scalar_t<P>;
    return -(t * clamped_log<kSubnormal>(p) + (S(1) - t) * op_max(log_one_minus<kSubnormal>(p), S(-100)));
}

// The same for a target known to be 0 or 1, with one log: u = t p + (1 - t)
// (1 - p) (binary_target_argument) is exactly p or log_one_minus's u, and the
// rounding term is added for t = 0 only, so the value is bit for bit bce()'s.
// The CPU pass evaluates u once into a buffer and passes it in.
template <class P, class T> MASKLENS_HD auto binary_target_argument(const P& p, const T& t)
{
    using S = scalar_t<P>;
    return (S(1) - t) + (S(2) * t - S(1)) * p; // 1 - p or p, rounded as 1 - p is
}
template <bool kSubnormal = false, class U, class P, class T>
MASKLENS_HD auto bce_binary_target_of(const U& u, const P& p, const T& t)
{
    using S = scalar_t<P>;
    return -op_max(log_of<kSubnormal>(u) + (S(1) - t) * ((S(1) - u) - p), S(-100));
}
template <bool kSubnormal = false, class P, class T>
MASKLENS_HD auto bce_binary_target(const P& p, const T& t)
{
    return bce_binary_target_of<kSubnormal>(binary_target_argument(p, t), p, t);
}

// Binary cross-entropy of logit x against t, in the overflow-free form
// max(x, 0) - x t + log(1 + exp(-|x|)) (binary_cross_entropy_with_logits).
template <class X, class T> MASKLENS_HD auto bce_with_logits(const X& x, const T& t)
{
    using S = scalar_t<X>;
    return op_max(x, S(0)) - x * t + op_log1p(op_exp(-op_abs(x)));
}

// Logistic sigmoid: the probability of a logit.
template <class X> MASKLENS_HD auto sigmoid(const X& x)
{
    using S = scalar_t<X>;
    return S(1) / (S(1) + op_exp(-x));
}

// 1 - p_t with p_t = p t + (1 - p)(1 - t): the focal modulating base.
template <class P, class T> MASKLENS_HD auto focal_base(const P& p, const T& t)
{
    using S = scalar_t<P>;
    return p + t - S(2) * p * t;
}

// alpha_t = alpha t + (1 - alpha)(1 - t): the focal class weight.
template <class T, class S> MASKLENS_HD auto focal_alpha_weight(const T& t, S alpha)
{
    return alpha * t + (S(1) - alpha) * (S(1) - t);
}

template <class P, class T> MASKLENS_HD auto squared_error(const P& p, const T& t)
{
    return op_square(p - t);
}
template <class P, class T> MASKLENS_HD auto absolute_error(const P& p, const T& t)
{
    return op_abs(p - t);
}

// Hard decisions: prediction >= threshold, target > 0.5.
template <class P, class S> MASKLENS_HD auto predicted_positive(const P& p, S threshold)
{
    return p >= threshold;
}
template <class T> MASKLENS_HD auto target_positive(const T& t)
{
    using S = scalar_t<T>;
    return t > S(0.5);
}

// A prediction is a valid probability (false for NaN). Scalar only; the
// non-short-circuit & lets the CPU loop over a chunk vectorise.
template <class P> MASKLENS_HD bool in_unit_interval(const P& p)
{
    return static_cast<bool>((p >= P(0)) & (p <= P(1)));
}

} // namespace masklens::terms
