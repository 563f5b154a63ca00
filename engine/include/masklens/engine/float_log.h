// The natural logarithm of float32 values on Eigen packets, for the
// arguments the loss terms take (probabilities and 1 - p: 0 <= x < inf).
//
// Why not Eigen's own log(): it also handles negative, infinite, NaN and
// subnormal arguments, which costs about twice the instructions, and the
// bce logarithm is most of the statistics pass's work. Here x = m 2^e with
// m in [sqrt(1/2), sqrt(2)), and log(m) = t - t^2/2 + t^3 P(t), t = m - 1,
// with P a degree-8 polynomial fitted by least squares on that interval
// (tests/generate_float_log_coefficients.py). Accuracy: within 1.1 units in
// the last place of the exact logarithm for every normal x > 0 (test_float_log).
//
// Domain: x = 0 gives -inf. Positive subnormal x is read as if its exponent
// were the smallest normal one (the result is near -87.3, not its
// logarithm): callers scale subnormals first (voxel_terms.h's
// op_log_subnormal). Negative, infinite and NaN arguments give unspecified
// finite values: callers reject such probabilities before using the logs.
//
// Not for CUDA: the device code uses logf.
#pragma once

#include <Eigen/Core>

namespace masklens::terms {

struct FloatLog {
    template <class Packet> EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const
    {
        using namespace Eigen::internal;
        using Integers = typename unpacket_traits<Packet>::integer_packet;
        // Exponent and mantissa: x = m 2^e with m in [0.5, 1) (x >= 0: no sign bit).
        const Integers bits = preinterpret<Integers>(x);
        Packet e = psub(pcast<Integers, Packet>(plogical_shift_right<23>(bits)), pset1<Packet>(126.0f));
        Packet m = por(pand(x, pset1frombits<Packet>(0x007FFFFFu)), pset1frombits<Packet>(0x3F000000u));
        // m below sqrt(1/2): use 2m and e - 1, so that t = m - 1 is in
        // [sqrt(1/2) - 1, sqrt(2) - 1).
        const Packet low = pcmp_lt(m, pset1<Packet>(0.70710678f));
        const Packet one = pset1<Packet>(1.0f);
        const Packet t = padd(psub(m, one), pand(m, low));
        e = psub(e, pand(one, low));
        const Packet t2 = pmul(t, t);
        const Packet t3 = pmul(t2, t);
        const Packet t4 = pmul(t2, t2);
        // P(t) by Horner's rule in two halves (more instruction-level parallelism).
        Packet high_half = pmadd(pset1<Packet>(0.06675272f), t, pset1<Packet>(-0.11646435f));
        Packet low_half = pmadd(pset1<Packet>(-0.16667643f), t, pset1<Packet>(0.20002204f));
        high_half = pmadd(high_half, t, pset1<Packet>(0.11904712f));
        low_half = pmadd(low_half, t, pset1<Packet>(-0.25000015f));
        high_half = pmadd(high_half, t, pset1<Packet>(-0.12411269f));
        low_half = pmadd(low_half, t, pset1<Packet>(0.3333331f));
        high_half = pmadd(high_half, t, pset1<Packet>(0.14217891f));
        const Packet poly = pmadd(high_half, t4, low_half);
        const Packet log_m = padd(t, pmadd(pset1<Packet>(-0.5f), t2, pmul(poly, t3)));
        const Packet result = pmadd(e, pset1<Packet>(0.69314718f), log_m);
        // log(0) = -inf.
        return pselect(pcmp_eq(x, pzero(x)), pset1frombits<Packet>(0xFF800000u), result);
    }

    // One element through the smallest packet: bit for bit the packet value
    // (Eigen evaluates unaligned heads and tails of an expression one
    // element at a time).
    EIGEN_STRONG_INLINE float operator()(float x) const
    {
        using Small = typename Eigen::internal::packet_traits<float>::half;
        return Eigen::internal::pfirst(packetOp(Eigen::internal::pset1<Small>(x)));
    }
};

// log(1 + x) for 0 <= x < inf, to float precision for small x too: with
// u = fl(1 + x), log(1 + x) = log(u) x / (u - 1) (the quotient corrects u's
// rounding), and x itself where u rounds to 1. bce_with_logits takes it of
// exp(-|x|) in (0, 1].
struct FloatLog1p {
    template <class Packet> EIGEN_STRONG_INLINE Packet packetOp(const Packet& x) const
    {
        using namespace Eigen::internal;
        const Packet one = pset1<Packet>(1.0f);
        const Packet u = padd(one, x);
        const Packet corrected = pmul(FloatLog{}.packetOp(u), pdiv(x, psub(u, one)));
        return pselect(pcmp_eq(u, one), x, corrected);
    }

    EIGEN_STRONG_INLINE float operator()(float x) const
    {
        using Small = typename Eigen::internal::packet_traits<float>::half;
        return Eigen::internal::pfirst(packetOp(Eigen::internal::pset1<Small>(x)));
    }
};

// log(x) of a float array expression with FloatLog.
template <class D> auto float_log(const Eigen::ArrayBase<D>& x)
{
    return x.unaryExpr(FloatLog{});
}

// log(1 + x) of a float array expression with FloatLog1p.
template <class D> auto float_log1p(const Eigen::ArrayBase<D>& x)
{
    return x.unaryExpr(FloatLog1p{});
}

} // namespace masklens::terms

namespace Eigen::internal {
template <> struct functor_traits<masklens::terms::FloatLog> {
    enum { Cost = 24 * NumTraits<float>::MulCost, PacketAccess = packet_traits<float>::HasLog };
};
template <> struct functor_traits<masklens::terms::FloatLog1p> {
    enum { Cost = 40 * NumTraits<float>::MulCost, PacketAccess = packet_traits<float>::HasLog };
};
} // namespace Eigen::internal
