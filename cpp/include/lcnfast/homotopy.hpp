// Homotopy continuation for square polynomial systems F(z) = 0, z in C^n.
//
// Total-degree homotopy with the gamma trick: H(z, s) = (1 - s) gamma G(z) + s F(z), with
// the start system G_i(z) = z_i^{d_i} - 1 (d_i the total degree of F_i) whose prod d_i
// solutions are known, and a random complex gamma so that, with probability one, no path
// meets a singularity for s in [0, 1). Each path is followed by an adaptive
// predictor-corrector (an RK4 predictor on the Davidenko equation dz/ds = -H_z^{-1} H_s,
// Newton correction; a step is taken only when the predictor lands within 1e-4 of the path
// and Newton then converges in at most three iterations, against path jumping) up to
// s = 1 - 1e-8, then finished by Newton on F. There is no endgame that computes singular
// endpoints: a path whose endpoint is singular (a multiple or positive-dimensional
// solution: the spurious ones of lcnfast's stratum systems) or at infinity is reported as
// such, from the conditioning and backward error at its end, not as a solution.
#pragma once

#include <Eigen/Dense>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "lcnfast/parallel.hpp"

namespace lcnfast {

using cplx = std::complex<double>;

// Systems of up to kMaxUnknowns unknowns: vectors and matrices live on the stack (a path
// costs a few hundred small LU solves; heap allocations would dominate them).
constexpr int kMaxUnknowns = 16;
using HVec = Eigen::Matrix<cplx, Eigen::Dynamic, 1, 0, kMaxUnknowns, 1>;
constexpr double kEndgameDistance = 1e-8;
// A step is rejected when the first Newton correction is larger than this (relative): the
// predictor must land close to the path, not merely in some solution's basin (path jumping).
constexpr double kPredictorTolerance = 1e-4;
using HMat = Eigen::Matrix<cplx, Eigen::Dynamic, Eigen::Dynamic, 0, kMaxUnknowns, kMaxUnknowns>;

// Sparse polynomial system: equation i has terms [term_begin[i], term_begin[i+1]); term k
// has coefficient coeff[k] and exponents exps[k*n .. k*n+n).
// Complex product without the C99 Annex G inf/nan recovery (GCC otherwise calls __muldc3 for
// every product, several times slower); the values here are finite or the path is dropped.
inline cplx cmul(cplx a, cplx b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}

struct PolySystem {
  int n = 0;
  std::vector<int> term_begin;
  std::vector<int> exps;
  std::vector<cplx> coeff;
  std::vector<int> degree;  // total degree of each equation

  void check() const {
    if (n < 1) throw std::invalid_argument("system: needs at least one unknown");
    if (n > kMaxUnknowns) throw std::invalid_argument("system: at most 16 unknowns");
    if (static_cast<int>(term_begin.size()) != n + 1) throw std::invalid_argument("system: needs n equations");
    // every term index is read through term_begin: it must describe exactly the given terms
    if (term_begin.front() != 0) throw std::invalid_argument("term_begin: must start at 0");
    for (std::size_t i = 0; i + 1 < term_begin.size(); ++i)
      if (term_begin[i + 1] < term_begin[i]) throw std::invalid_argument("term_begin: must be non-decreasing");
    if (static_cast<std::size_t>(term_begin.back()) != coeff.size())
      throw std::invalid_argument("term_begin: must end at the number of terms (coefficients)");
    if (static_cast<int>(degree.size()) != n) throw std::invalid_argument("degree: needs one per equation");
    if (exps.size() != coeff.size() * static_cast<std::size_t>(n))
      throw std::invalid_argument("system: exponents do not match the terms");
    for (int e : exps)
      if (e < 0 || e > 64) throw std::invalid_argument("system: exponents must be in [0, 64]");
    for (int d : degree)
      if (d < 1) throw std::invalid_argument("system: every equation needs degree >= 1");
  }

  // F(z) and its Jacobian. Each term costs O(n): the partial derivatives of a monomial come
  // from prefix and suffix products of its factors (no division, so z_v = 0 is fine).
  void eval(const HVec& z, HVec& F, HMat& J) const {
    F.setZero(n);
    J.setZero(n, n);
    const auto un = static_cast<std::size_t>(n);
    thread_local std::vector<cplx> pw;
    pw.resize(un * 66);
    cplx prefix[kMaxUnknowns + 1];
    for (std::size_t v = 0; v < un; ++v) {  // powers z_v^0 .. z_v^65
      cplx p = 1.0;
      const cplx zv = z[static_cast<Eigen::Index>(v)];
      for (std::size_t e = 0; e < 66; ++e) {
        pw[v * 66 + e] = p;
        p = cmul(p, zv);
      }
    }
    for (int i = 0; i < n; ++i)
      for (int k = term_begin[static_cast<std::size_t>(i)]; k < term_begin[static_cast<std::size_t>(i) + 1]; ++k) {
        const int* e = &exps[static_cast<std::size_t>(k) * un];
        const cplx c = coeff[static_cast<std::size_t>(k)];
        prefix[0] = c;
        for (std::size_t v = 0; v < un; ++v) prefix[v + 1] = cmul(prefix[v], pw[v * 66 + static_cast<std::size_t>(e[v])]);
        F[i] += prefix[un];
        cplx suffix = 1.0;  // product of the factors after v
        for (std::size_t v = un; v-- > 0;) {
          const auto ev = static_cast<std::size_t>(e[v]);
          if (ev != 0)
            J(i, static_cast<Eigen::Index>(v)) += cmul(cmul(prefix[v], suffix), static_cast<double>(ev) * pw[v * 66 + ev - 1]);
          suffix = cmul(suffix, pw[v * 66 + ev]);
        }
      }
  }
};

// Per equation, the sum of the absolute values of its terms at z: the scale against which
// |F_i(z)| is rounding error (a relative backward error is |F_i| / scale_i).
using HReal = Eigen::Matrix<double, Eigen::Dynamic, 1, 0, kMaxUnknowns, 1>;
inline HReal term_scale(const PolySystem& F, const HVec& z) {
  HReal scale = HReal::Zero(F.n);
  const auto un = static_cast<std::size_t>(F.n);
  for (int i = 0; i < F.n; ++i)
    for (int k = F.term_begin[static_cast<std::size_t>(i)]; k < F.term_begin[static_cast<std::size_t>(i) + 1]; ++k) {
      double mono = std::abs(F.coeff[static_cast<std::size_t>(k)]);
      for (std::size_t v = 0; v < un; ++v)
        mono *= std::pow(std::abs(z[static_cast<Eigen::Index>(v)]), F.exps[static_cast<std::size_t>(k) * un + v]);
      scale[i] += mono;
    }
  return scale;
}

enum PathStatus : int { kPathFinite = 0, kPathInfinite = 1, kPathSingular = 2, kPathFailed = 3 };

struct PathResult {
  Eigen::VectorXcd z;
  int status = kPathFailed;
  double residual = 0.0;
  double condition = 0.0;
};

namespace homotopy_detail {

struct Homotopy {
  const PolySystem& F;
  cplx gamma;
  // H(z, s) and its derivatives in z and s.
  void eval(const HVec& z, double s, HVec& H, HMat& Hz, HVec& Hs) const {
    HVec f;
    HMat Jf;
    F.eval(z, f, Jf);
    const int n = F.n;
    HVec g(n);
    HMat Jg = HMat::Zero(n, n);
    for (int i = 0; i < n; ++i) {
      const int d = F.degree[static_cast<std::size_t>(i)];
      g[i] = std::pow(z[i], d) - 1.0;
      Jg(i, i) = static_cast<double>(d) * std::pow(z[i], d - 1);
    }
    H = (1.0 - s) * gamma * g + s * f;
    Hz = (1.0 - s) * gamma * Jg + s * Jf;
    Hs = f - gamma * g;
  }
  HVec velocity(const HVec& z, double s) const {
    HVec H, Hs;
    HMat Hz;
    eval(z, s, H, Hz, Hs);
    return Hz.partialPivLu().solve(-Hs);
  }
};

inline double cond(const HMat& A) {
  Eigen::JacobiSVD<HMat> svd(A);
  const auto& sv = svd.singularValues();
  return sv[sv.size() - 1] > 0 ? sv[0] / sv[sv.size() - 1] : 1e300;
}

}  // namespace homotopy_detail

// Tracks one path from the start solution `start` (a solution of G).
inline PathResult track_path(const PolySystem& F, cplx gamma, HVec z) {
  using homotopy_detail::Homotopy;
  const Homotopy Hm{F, gamma};
  PathResult out;
  double s = 0.0, h = 0.01;
  HVec H, Hs;
  HMat Hz;
  int steps = 0;
  // The last stretch [s_end, 1] is left to Newton on F: a path to a regular solution is
  // within ~1e-8 of it there (Newton converges at once), while a path to a singular or
  // infinite endpoint would need ~10 steps per decade of 1 - s to get closer.
  const double s_end = 1.0 - kEndgameDistance;
  while (s < s_end) {
    if (++steps > 20000 || h < 1e-14) {
      out.z = z;
      out.status = z.norm() > 1e6 ? kPathInfinite : kPathSingular;
      return out;
    }
    const double step = std::min(h, s_end - s);
    // RK4 predictor on dz/ds = -Hz^{-1} Hs
    const HVec k1 = Hm.velocity(z, s);
    const HVec k2 = Hm.velocity(z + 0.5 * step * k1, s + 0.5 * step);
    const HVec k3 = Hm.velocity(z + 0.5 * step * k2, s + 0.5 * step);
    const HVec k4 = Hm.velocity(z + step * k3, s + step);
    HVec y = z + (step / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    // Newton corrector at s + step
    // Newton corrector at s + step; a step is accepted only if Newton contracts quickly
    // (no path jumping: a predictor that lands near another path converges slowly first).
    bool ok = false;
    double previous = 1e300;
    for (int it = 0; it < 4; ++it) {
      Hm.eval(y, s + step, H, Hz, Hs);
      const HVec dy = Hz.partialPivLu().solve(-H);
      y += dy;
      const double size = dy.norm();
      if (!y.allFinite() || size > 0.5 * previous) break;
      previous = size;
      if (it == 0 && size > kPredictorTolerance * (1.0 + y.norm())) break;  // predictor too far off
      if (size <= 1e-10 * (1.0 + y.norm())) {
        ok = it <= 2 && (y - z).norm() <= 0.5 * (1.0 + z.norm());
        break;
      }
    }
    if (ok) {
      s += step;
      z = y;
      h = std::min(h * 1.5, 0.05);
      if (z.norm() > 1e8) {  // running off to infinity
        out.z = z;
        out.status = kPathInfinite;
        return out;
      }
    } else {
      h *= 0.5;
    }
  }
  // polish on F itself
  HVec f;
  HMat J;
  for (int it = 0; it < 8; ++it) {
    F.eval(z, f, J);
    const HVec dz = J.partialPivLu().solve(-f);
    if (!dz.allFinite()) break;
    z += dz;
    if (dz.norm() <= 1e-14 * (1.0 + z.norm())) break;
  }
  F.eval(z, f, J);
  out.z = z;
  // the residual relative to the equations' term sizes (a backward error: the coefficients'
  // magnitudes do not decide what counts as a solution)
  out.residual = f.cwiseAbs().cwiseQuotient(term_scale(F, z).cwiseMax(1e-300)).maxCoeff();
  out.condition = homotopy_detail::cond(J);
  out.status = (!z.allFinite() || z.norm() > 1e8) ? kPathInfinite
               : (out.condition > 1e10 || out.residual > 1e-10) ? kPathSingular
                                                                : kPathFinite;
  return out;
}

// The number of start solutions (prod d_i) of the total-degree homotopy of F.
inline std::int64_t total_degree_paths(const PolySystem& F) {
  F.check();
  std::int64_t paths = 1;
  for (int d : F.degree) {
    paths *= d;
    if (paths > 2000000) throw std::invalid_argument("system: more than 2e6 start solutions");
  }
  return paths;
}

// Solves F by total-degree homotopy along the paths [first, first + count) of its
// total_degree_paths(F) start solutions (count < 0: to the last): one result per path. A
// path's result does not depend on which slice or thread computes it.
inline std::vector<PathResult> solve_total_degree(const PolySystem& F, cplx gamma, int threads,
                                                  const StopCheck& stop_check, bool& interrupted,
                                                  std::int64_t first = 0, std::int64_t count = -1) {
  const std::int64_t paths = total_degree_paths(F);
  if (first < 0 || first > paths) throw std::invalid_argument("first: outside the start solutions");
  const std::int64_t n_paths = count < 0 || first + count > paths ? paths - first : count;
  std::vector<PathResult> results(static_cast<std::size_t>(n_paths));
  const double two_pi = 6.283185307179586;
  const bool done = parallel_chunks(
      n_paths, 4, threads,
      [&](std::ptrdiff_t b, std::ptrdiff_t e, int) {
        for (std::ptrdiff_t p = b; p < e; ++p) {
          HVec z(F.n);
          std::int64_t rest = first + p;
          for (int i = 0; i < F.n; ++i) {  // mixed-radix index -> a root of unity per unknown
            const int d = F.degree[static_cast<std::size_t>(i)];
            const auto k = static_cast<double>(rest % d);
            rest /= d;
            z[i] = std::polar(1.0, two_pi * k / d);
          }
          results[static_cast<std::size_t>(p)] = track_path(F, gamma, z);
        }
      },
      stop_check);
  interrupted = !done;
  return results;
}

}  // namespace lcnfast
