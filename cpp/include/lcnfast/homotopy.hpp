// Homotopy continuation for square polynomial systems F(z) = 0, z in C^n.
//
// Total-degree homotopy with the gamma trick: H(z, s) = (1 - s) gamma G(z) + s F(z), with
// the start system G_i(z) = z_i^{d_i} - 1 (d_i the total degree of F_i) whose prod d_i
// solutions are known, and a random complex gamma so that, with probability one, no path
// meets a singularity for s in [0, 1). Each path is followed by an adaptive
// predictor-corrector (an RK4 predictor on the Davidenko equation dz/ds = -H_z^{-1} H_s,
// Newton correction), then polished by Newton on F. Paths whose solutions run off to
// infinity or end at singular points (multiple or positive-dimensional solutions: the
// spurious ones of lcnfast's stratum systems) are reported as such, not as solutions.
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

// Sparse polynomial system: equation i has terms [term_begin[i], term_begin[i+1]); term k
// has coefficient coeff[k] and exponents exps[k*n .. k*n+n).
struct PolySystem {
  int n = 0;
  std::vector<int> term_begin;
  std::vector<int> exps;
  std::vector<cplx> coeff;
  std::vector<int> degree;  // total degree of each equation

  void check() const {
    if (n < 1) throw std::invalid_argument("system: needs at least one unknown");
    if (static_cast<int>(term_begin.size()) != n + 1) throw std::invalid_argument("system: needs n equations");
    if (exps.size() != coeff.size() * static_cast<std::size_t>(n))
      throw std::invalid_argument("system: exponents do not match the terms");
    for (int e : exps)
      if (e < 0 || e > 64) throw std::invalid_argument("system: exponents must be in [0, 64]");
    for (int d : degree)
      if (d < 1) throw std::invalid_argument("system: every equation needs degree >= 1");
  }

  // F(z) and its Jacobian.
  void eval(const Eigen::VectorXcd& z, Eigen::VectorXcd& F, Eigen::MatrixXcd& J) const {
    F.setZero(n);
    J.setZero(n, n);
    std::vector<cplx> pw(static_cast<std::size_t>(n) * 66);
    for (int v = 0; v < n; ++v) {  // powers z_v^0 .. z_v^65
      cplx p = 1.0;
      for (int e = 0; e < 66; ++e) {
        pw[static_cast<std::size_t>(v * 66 + e)] = p;
        p *= z[v];
      }
    }
    for (int i = 0; i < n; ++i)
      for (int k = term_begin[static_cast<std::size_t>(i)]; k < term_begin[static_cast<std::size_t>(i) + 1]; ++k) {
        const int* e = &exps[static_cast<std::size_t>(k) * static_cast<std::size_t>(n)];
        cplx mono = coeff[static_cast<std::size_t>(k)];
        for (int v = 0; v < n; ++v) mono *= pw[static_cast<std::size_t>(v * 66 + e[v])];
        F[i] += mono;
        for (int v = 0; v < n; ++v) {
          if (e[v] == 0) continue;
          cplx d = coeff[static_cast<std::size_t>(k)] * static_cast<double>(e[v]);
          for (int w = 0; w < n; ++w) d *= pw[static_cast<std::size_t>(w * 66 + (w == v ? e[w] - 1 : e[w]))];
          J(i, v) += d;
        }
      }
  }
};

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
  void eval(const Eigen::VectorXcd& z, double s, Eigen::VectorXcd& H, Eigen::MatrixXcd& Hz,
            Eigen::VectorXcd& Hs) const {
    Eigen::VectorXcd f;
    Eigen::MatrixXcd Jf;
    F.eval(z, f, Jf);
    const int n = F.n;
    Eigen::VectorXcd g(n);
    Eigen::MatrixXcd Jg = Eigen::MatrixXcd::Zero(n, n);
    for (int i = 0; i < n; ++i) {
      const int d = F.degree[static_cast<std::size_t>(i)];
      g[i] = std::pow(z[i], d) - 1.0;
      Jg(i, i) = static_cast<double>(d) * std::pow(z[i], d - 1);
    }
    H = (1.0 - s) * gamma * g + s * f;
    Hz = (1.0 - s) * gamma * Jg + s * Jf;
    Hs = f - gamma * g;
  }
  Eigen::VectorXcd velocity(const Eigen::VectorXcd& z, double s) const {
    Eigen::VectorXcd H, Hs;
    Eigen::MatrixXcd Hz;
    eval(z, s, H, Hz, Hs);
    return Hz.partialPivLu().solve(-Hs);
  }
};

inline double cond(const Eigen::MatrixXcd& A) {
  Eigen::JacobiSVD<Eigen::MatrixXcd> svd(A);
  const auto& sv = svd.singularValues();
  return sv[sv.size() - 1] > 0 ? sv[0] / sv[sv.size() - 1] : 1e300;
}

}  // namespace homotopy_detail

// Tracks one path from the start solution `start` (a solution of G).
inline PathResult track_path(const PolySystem& F, cplx gamma, Eigen::VectorXcd z) {
  using homotopy_detail::Homotopy;
  const Homotopy Hm{F, gamma};
  PathResult out;
  double s = 0.0, h = 0.01;
  Eigen::VectorXcd H, Hs;
  Eigen::MatrixXcd Hz;
  int steps = 0;
  while (s < 1.0) {
    if (++steps > 20000 || h < 1e-14) {
      out.z = z;
      out.status = z.norm() > 1e6 ? kPathInfinite : kPathSingular;
      return out;
    }
    const double step = std::min(h, 1.0 - s);
    // RK4 predictor on dz/ds = -Hz^{-1} Hs
    const Eigen::VectorXcd k1 = Hm.velocity(z, s);
    const Eigen::VectorXcd k2 = Hm.velocity(z + 0.5 * step * k1, s + 0.5 * step);
    const Eigen::VectorXcd k3 = Hm.velocity(z + 0.5 * step * k2, s + 0.5 * step);
    const Eigen::VectorXcd k4 = Hm.velocity(z + step * k3, s + step);
    Eigen::VectorXcd y = z + (step / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    // Newton corrector at s + step
    // Newton corrector at s + step; a step is accepted only if Newton contracts quickly
    // (no path jumping: a predictor that lands near another path converges slowly first).
    bool ok = false;
    double previous = 1e300;
    for (int it = 0; it < 4; ++it) {
      Hm.eval(y, s + step, H, Hz, Hs);
      const Eigen::VectorXcd dy = Hz.partialPivLu().solve(-H);
      y += dy;
      const double size = dy.norm();
      if (!y.allFinite() || size > 0.5 * previous) break;
      previous = size;
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
  Eigen::VectorXcd f;
  Eigen::MatrixXcd J;
  for (int it = 0; it < 8; ++it) {
    F.eval(z, f, J);
    const Eigen::VectorXcd dz = J.partialPivLu().solve(-f);
    if (!dz.allFinite()) break;
    z += dz;
    if (dz.norm() <= 1e-14 * (1.0 + z.norm())) break;
  }
  F.eval(z, f, J);
  out.z = z;
  out.residual = f.norm();
  out.condition = homotopy_detail::cond(J);
  out.status = (!z.allFinite() || z.norm() > 1e8) ? kPathInfinite
               : (out.condition > 1e10 || out.residual > 1e-8 * (1.0 + z.norm())) ? kPathSingular
                                                                                  : kPathFinite;
  return out;
}

// Solves F by total-degree homotopy: one result per start solution (prod d_i of them).
inline std::vector<PathResult> solve_total_degree(const PolySystem& F, cplx gamma, int threads,
                                                  const StopCheck& stop_check, bool& interrupted) {
  F.check();
  std::int64_t paths = 1;
  for (int d : F.degree) {
    paths *= d;
    if (paths > 2000000) throw std::invalid_argument("system: more than 2e6 start solutions");
  }
  std::vector<PathResult> results(static_cast<std::size_t>(paths));
  const double two_pi = 6.283185307179586;
  const bool done = parallel_chunks(
      paths, 4, threads,
      [&](std::ptrdiff_t b, std::ptrdiff_t e, int) {
        for (std::ptrdiff_t p = b; p < e; ++p) {
          Eigen::VectorXcd z(F.n);
          std::int64_t rest = p;
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
