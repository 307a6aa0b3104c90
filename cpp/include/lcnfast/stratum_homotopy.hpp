// Parameter homotopy for the critical points of a quadratic loss on a multiple-root stratum.
//
// The family. A form on the stratum of a partition lambda is v = c R p(z): p(z) is the vector
// of the K = D + 1 coefficients, in a chart basis, of prod_g q_g^{a_g}, where each group of
// m_g equal parts a_g is q_g = h X^m + e_1 X^(m-1) Y + ... + e_m Y^m, and R maps chart
// coefficients to the user's basis. The unknowns are homogeneous, z = (h, e) in C^N
// (N = n + 1), so that paths heading for infinity in the affine chart h = 1 stay bounded;
// a random linear patch  sum_v patch_v z_v = 1  is the last equation. With w = R^T G u and
// Gc = R^T G R (the "parameters"), a = w.p, b = p.Gc p, the optimal scale is c = a / b and the
// critical equations are, for each affine unknown e_j,
//     F_j(z) = a_j b - a b_j / 2 = 0        (a_j = d a / d e_j, b_j likewise),
// homogeneous of degree 3 deg(p) - 1, bilinear in (w, Gc).
//
// The homotopy moves the parameters along a straight segment q(s) = q0 + s (q1 - q0), s in C:
// from generic complex parameters q0, whose solutions are known, every isolated solution at
// q1 is the end of a path (Morgan-Sommese), and for generic q0 and q1 no path meets a
// singularity before s = 1. Paths are followed by a Hermite multistep predictor (the last
// points of the path and their tangents, see track_segment) with error control from the
// first Newton correction, a Newton corrector that must contract at once (against path
// jumping), and a Cauchy endgame at s = 1 for endpoints that
// are singular: loops around s = 1 give the winding number (cycle number) and, by the
// trapezoidal rule on the Cauchy integral, the endpoint to near full accuracy, also for
// multiple solutions and solutions at infinity (h = 0). Design after the trackers and
// endgames of HomotopyContinuation.jl and Bertini; the code is ours.
#pragma once

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "lcnfast/homotopy.hpp"
#include "lcnfast/parallel.hpp"

namespace lcnfast {

// The coefficient polynomials p_alpha(z) of a stratum's form, in homogeneous unknowns.
struct StratumFamily {
  int N = 0;  // homogeneous unknowns (h, e_1..e_n)
  int K = 0;  // coefficients of the form (D + 1)
  std::vector<int> begin;      // poly alpha has terms [begin[alpha], begin[alpha+1])
  std::vector<int> exps;       // N exponents per term
  std::vector<double> coeff;   // real coefficient per term
  std::vector<cplx> patch;     // N coefficients of the patch equation

  void check() const {
    if (N < 2 || N > kMaxUnknowns) throw std::invalid_argument("family: needs 2..16 homogeneous unknowns");
    if (K < 2 || K > 16) throw std::invalid_argument("family: needs 2..16 form coefficients");
    if (static_cast<int>(begin.size()) != K + 1 || begin.front() != 0)
      throw std::invalid_argument("family: begin must have K + 1 entries starting at 0");
    for (std::size_t i = 0; i + 1 < begin.size(); ++i)
      if (begin[i + 1] < begin[i]) throw std::invalid_argument("family: begin must be non-decreasing");
    if (static_cast<std::size_t>(begin.back()) != coeff.size())
      throw std::invalid_argument("family: begin does not match the number of terms");
    if (exps.size() != coeff.size() * static_cast<std::size_t>(N))
      throw std::invalid_argument("family: exponents do not match the terms");
    for (int e : exps)
      if (e < 0 || e > 64) throw std::invalid_argument("family: exponents must be in [0, 64]");
    if (static_cast<int>(patch.size()) != N) throw std::invalid_argument("family: patch needs N coefficients");
  }
};

using CMat = Eigen::Matrix<cplx, Eigen::Dynamic, Eigen::Dynamic>;
using CVec = Eigen::Matrix<cplx, Eigen::Dynamic, 1>;

// Parameters of one member of the family: w (K) and the symmetric Gc (K x K).
struct StratumParams {
  CVec w;
  CMat G;
};

// Forms of degree up to kMaxForm - 1: the per-evaluation vectors and matrices live on the
// stack (an evaluation is a few microseconds; heap allocations would dominate it).
constexpr int kMaxForm = 16;
using FVec = Eigen::Matrix<cplx, Eigen::Dynamic, 1, 0, kMaxForm, 1>;
using FMat = Eigen::Matrix<cplx, Eigen::Dynamic, Eigen::Dynamic, 0, kMaxForm, kMaxForm>;
using FNMat = Eigen::Matrix<cplx, Eigen::Dynamic, Eigen::Dynamic, 0, kMaxForm, kMaxUnknowns>;

// The square system H(z, s) = (F_1..F_n, patch) along q(s) = q0 + s dq.
class StratumHomotopy {
 public:
  StratumHomotopy(const StratumFamily& family, const StratumParams& q0, const StratumParams& q1)
      : f_(family), w0_(q0.w), G0_(q0.G), dw_(q1.w - q0.w), dG_(q1.G - q0.G) {
    if (family.K > kMaxForm) throw std::invalid_argument("family: at most 16 form coefficients");
    for (int e : family.exps) max_exp_ = std::max(max_exp_, static_cast<std::size_t>(e));
  }

  int size() const { return f_.N; }

  // H, dH/dz and dH/ds at (z, s). Not reentrant within a thread (eval does not call itself).
  void eval(const HVec& z, cplx s, HVec& H, HMat& Hz, HVec& Hs) const {
    const int N = f_.N, K = f_.K, n = N - 1;
    const auto uN = static_cast<std::size_t>(N);
    // powers 0..max_exp_ of each unknown (exponents are at most 64, checked by the family)
    constexpr std::size_t kPow = 66;
    // left uninitialised (std::complex would zero all 1 056 entries on every evaluation);
    // only the powers 0..max_exp_ of the N unknowns are written and read
    union Powers {
      Powers() {}
      cplx at[kMaxUnknowns * kPow];
    } powers;
    cplx* const pw = powers.at;
    for (std::size_t v = 0; v < uN; ++v) {
      pw[v * kPow] = 1.0;
      for (std::size_t e = 1; e <= max_exp_; ++e)
        pw[v * kPow + e] = cmul(pw[v * kPow + e - 1], z[static_cast<Eigen::Index>(v)]);
    }
    // the matrices live in a per-thread scratch: constructing a fixed-capacity matrix of
    // std::complex zero-fills its whole 16 x 16 buffer, 6% of the tracker's time
    Scratch& ws = scratch();
    // pass 1: the form p and its gradient P (K x N)
    FVec p = FVec::Zero(K);
    FNMat& P = ws.P;
    P.setZero(K, N);
    cplx pre[kMaxUnknowns + 1], suf[kMaxUnknowns + 1];
    // Prefix and suffix products of term t's factors: its partial derivatives, division-free.
    const auto products = [&](int t) {
      const int* e = &f_.exps[static_cast<std::size_t>(t) * uN];
      pre[0] = f_.coeff[static_cast<std::size_t>(t)];
      for (std::size_t v = 0; v < uN; ++v) pre[v + 1] = cmul(pre[v], pw[v * kPow + static_cast<std::size_t>(e[v])]);
      suf[uN] = 1.0;
      for (std::size_t v = uN; v-- > 0;) suf[v] = cmul(suf[v + 1], pw[v * kPow + static_cast<std::size_t>(e[v])]);
      return e;
    };
    for (int al = 0; al < K; ++al)
      for (int t = f_.begin[static_cast<std::size_t>(al)]; t < f_.begin[static_cast<std::size_t>(al) + 1]; ++t) {
        const int* e = products(t);
        p[al] += pre[uN];
        for (std::size_t v = 0; v < uN; ++v)
          if (e[v] != 0)
            P(al, static_cast<Eigen::Index>(v)) +=
                static_cast<double>(e[v]) * cmul(cmul(pre[v], suf[v + 1]), pw[v * kPow + static_cast<std::size_t>(e[v]) - 1]);
      }
    const FVec w = w0_ + s * dw_;
    FMat& G = ws.G;
    G = G0_ + s * dG_;
    const FVec g = G * p;
    const FVec dg = dG_ * p;
    // pass 2: the Hessians of the two scalars w.p and g.p (g held fixed), term by term
    HMat& A2 = ws.A2;
    HMat& B2 = ws.B2;
    A2.setZero(N, N);
    B2.setZero(N, N);
    for (int al = 0; al < K; ++al) {
      const cplx wa = w[al], ga = g[al];
      for (int t = f_.begin[static_cast<std::size_t>(al)]; t < f_.begin[static_cast<std::size_t>(al) + 1]; ++t) {
        const int* e = products(t);
        for (std::size_t v = 0; v < uN; ++v) {
          const auto ev = static_cast<std::size_t>(e[v]);
          if (ev == 0) continue;
          const auto V = static_cast<Eigen::Index>(v);
          if (ev >= 2) {
            const cplx d2 = static_cast<double>(ev * (ev - 1)) * cmul(cmul(pre[v], suf[v + 1]), pw[v * kPow + ev - 2]);
            A2(V, V) += cmul(wa, d2);
            B2(V, V) += cmul(ga, d2);
          }
          cplx mid = cmul(pre[v], static_cast<double>(ev) * pw[v * kPow + ev - 1]);
          for (std::size_t u = v + 1; u < uN; ++u) {
            const auto eu = static_cast<std::size_t>(e[u]);
            if (eu == 0) continue;  // a factor 1
            const cplx val = cmul(cmul(mid, static_cast<double>(eu) * pw[u * kPow + eu - 1]), suf[u + 1]);
            const auto U = static_cast<Eigen::Index>(u);
            A2(V, U) += cmul(wa, val);
            B2(V, U) += cmul(ga, val);
            mid = cmul(mid, pw[u * kPow + eu]);
          }
        }
      }
    }
    for (int v = 0; v < N; ++v)
      for (int u = v + 1; u < N; ++u) {
        A2(u, v) = A2(v, u);
        B2(u, v) = B2(v, u);
      }
    const cplx a = w.cwiseProduct(p).sum(), b = g.cwiseProduct(p).sum();  // bilinear, no conjugation
    HVec ak(N), bk(N);
    for (int k = 0; k < N; ++k) {
      ak[k] = w.cwiseProduct(P.col(k)).sum();
      bk[k] = 2.0 * g.cwiseProduct(P.col(k)).sum();
    }
    FNMat& GP = ws.GP;
    GP.noalias() = G * P;
    // P_j . G P_k for the affine unknowns j >= 1 (the rows of F), every k: symmetric in
    // j, k >= 1 (G is), so each of those pairs once
    HMat& PtGP = ws.PtGP;
    PtGP.resize(N, N);
    for (int j = 1; j < N; ++j) {
      PtGP(j, 0) = P.col(j).cwiseProduct(GP.col(0)).sum();
      for (int k = j; k < N; ++k) PtGP(j, k) = PtGP(k, j) = P.col(j).cwiseProduct(GP.col(k)).sum();
    }
    const cplx da = dw_.cwiseProduct(p).sum(), db = dg.cwiseProduct(p).sum();
    H.resize(N);
    Hz.resize(N, N);
    Hs.resize(N);
    for (int j = 0; j < n; ++j) {
      const int J = j + 1;  // the unknown e_j is z_J
      H[j] = ak[J] * b - 0.5 * a * bk[J];
      const cplx daj = dw_.cwiseProduct(P.col(J)).sum();
      const cplx dbj = 2.0 * dg.cwiseProduct(P.col(J)).sum();
      Hs[j] = daj * b + ak[J] * db - 0.5 * (da * bk[J] + a * dbj);
      for (int k = 0; k < N; ++k) {
        const cplx bjk = 2.0 * (B2(J, k) + PtGP(J, k));
        Hz(j, k) = A2(J, k) * b + ak[J] * bk[k] - 0.5 * (ak[k] * bk[J] + a * bjk);
      }
    }
    H[n] = -1.0;
    for (int k = 0; k < N; ++k) {
      H[n] += f_.patch[static_cast<std::size_t>(k)] * z[k];
      Hz(n, k) = f_.patch[static_cast<std::size_t>(k)];
    }
    Hs[n] = 0.0;
  }

 private:
  struct Scratch {
    FNMat P, GP;
    FMat G;
    HMat A2, B2, PtGP;
  };
  static Scratch& scratch() {
    thread_local Scratch s;
    return s;
  }

  const StratumFamily& f_;
  FVec w0_;
  FMat G0_;
  FVec dw_;
  FMat dG_;
  std::size_t max_exp_ = 0;
};

enum EndpointKind : int { kEndRegular = 0, kEndInfinity = 1, kEndSingular = 2, kEndFailed = 3 };

// Why a path failed (TrackedPath::failure).
enum PathFailure : int {
  kFailNone = 0,
  kFailStepSize = 1,      // the step size collapsed (a near-singularity on the way)
  kFailStepBudget = 2,    // too many steps
  kFailNotClosed = 3,     // the endgame's loops did not close within the largest winding number tried
  kFailNotConverged = 4,  // the endgame's estimates did not settle
};

struct TrackedPath {
  Eigen::VectorXcd z;
  int kind = kEndFailed;
  int failure = kFailNone;
  int winding = 0;      // cycle number from the endgame (1 for a regular endpoint)
  int steps = 0;        // accepted predictor-corrector steps
  double condition = 0.0;
  double accuracy = 0.0;  // relative change of the endpoint estimate in the last refinement
};

struct TrackerOptions {
  double endgame_start = 0.9;   // the endgame starts from here when the endpoint is not regular
  bool endgame = true;          // false: a path that does not end regularly is simply failed
  int max_steps = 5000;
  // local error of the predictor, relative to 1 + |z|: before the endgame zone, and in it
  // (tighter near the endpoint, where paths of a singular endpoint come close together; the
  // two tolerances of Bertini's tracker)
  double predictor_tolerance = 1e-5;
  double endgame_tolerance = 1e-6;
};

namespace tracker_detail {

// LU factorisation with partial pivoting of a small complex matrix, in place. The pivot is
// chosen by |re| + |im| (within a factor sqrt 2 of the modulus, without a hypot per entry);
// products use cmul. For the systems here (N <= 16) this is several times faster than the
// general Eigen factorisation, whose pivot search calls hypot on every candidate.
//
// It factors the caller's matrix in place: a copy would cost more than the factorisation,
// as a fixed-capacity Eigen matrix of std::complex zero-fills its whole 16 x 16 buffer on
// construction (std::complex's default constructor).
class SmallLU {
 public:
  explicit SmallLU(HMat& A) : lu_(A) {
    const Eigen::Index n = lu_.rows();
    for (Eigen::Index k = 0; k < n; ++k) {
      Eigen::Index best = k;
      double size = 0.0;
      for (Eigen::Index i = k; i < n; ++i) {
        const double a = std::abs(lu_(i, k).real()) + std::abs(lu_(i, k).imag());
        if (a > size) {
          size = a;
          best = i;
        }
      }
      perm_[k] = static_cast<int>(best);
      if (best != k) lu_.row(k).swap(lu_.row(best));
      if (size == 0.0) {  // singular: the solve gives non-finite values, as Eigen's would
        inv_[k] = cplx(std::numeric_limits<double>::infinity(), 0.0);
        continue;
      }
      const cplx inv = reciprocal(lu_(k, k));
      inv_[k] = inv;
      for (Eigen::Index i = k + 1; i < n; ++i) {
        const cplx f = cmul(lu_(i, k), inv);
        lu_(i, k) = f;
        for (Eigen::Index j = k + 1; j < n; ++j) lu_(i, j) -= cmul(f, lu_(k, j));
      }
    }
  }

  HVec solve(HVec b) const {
    const Eigen::Index n = lu_.rows();
    for (Eigen::Index k = 0; k < n; ++k)
      if (perm_[k] != k) std::swap(b[k], b[perm_[k]]);
    for (Eigen::Index i = 1; i < n; ++i)
      for (Eigen::Index j = 0; j < i; ++j) b[i] -= cmul(lu_(i, j), b[j]);
    for (Eigen::Index i = n; i-- > 0;) {
      for (Eigen::Index j = i + 1; j < n; ++j) b[i] -= cmul(lu_(i, j), b[j]);
      b[i] = cmul(b[i], inv_[i]);
    }
    return b;
  }

 private:
  // 1 / z, scaled against overflow and underflow (the library's complex division, __divdc3,
  // was a few percent of the tracker's time)
  static cplx reciprocal(cplx z) {
    const double s = std::max(std::abs(z.real()), std::abs(z.imag()));
    const double re = z.real() / s, im = z.imag() / s;
    const double d = (re * re + im * im) * s;
    return {re / d, -im / d};
  }

  HMat& lu_;
  int perm_[kMaxUnknowns] = {};
  cplx inv_[kMaxUnknowns] = {};
};

template <class Sys>
HVec velocity(const Sys& sys, const HVec& z, cplx s, cplx ds) {
  HVec H, Hs;
  HMat Hz;
  sys.eval(z, s, H, Hz, Hs);
  return SmallLU(Hz).solve(-Hs * ds);
}

// Newton at fixed s; true when it converged to 1e-11 relative with contraction. With
// `tangent`, also the velocity dz/dt = -Hz^-1 Hs ds from the last iteration's Jacobian (at a
// point within the last correction of y): the next predictor step's tangent. `first`, if
// given, receives the size of the first correction (the predictor's distance from the path).
// Newton converges quadratically: once a correction is below 1e-8 and the contraction
// predicts the next one below 1e-11, the point is taken without evaluating again.
template <class Sys>
bool correct(const Sys& sys, HVec& y, cplx s, double first_tol, int max_it, HVec* tangent = nullptr,
             cplx ds = 0.0, double* first = nullptr) {
  HVec H, Hs;
  HMat Hz;
  double previous = 1e300;
  for (int it = 0; it < max_it; ++it) {
    sys.eval(y, s, H, Hz, Hs);
    const SmallLU lu(Hz);
    const HVec dy = lu.solve(-H);
    if (!dy.allFinite()) return false;
    y += dy;
    const double size = dy.norm() / (1.0 + y.norm());
    if (it == 0 && first != nullptr) *first = size;
    if (it == 0 && size > first_tol) return false;  // the predictor landed off the path
    // Converged: below 1e-11, or two steps in a row below 1e-9, where an ill-conditioned
    // Jacobian (a near-singular point of the path) puts the rounding floor of Newton's steps
    // above 1e-11 and their sizes are noise that shows no contraction; rejecting those made
    // the step size collapse there. With a tangent wanted (tracking), also when quadratic
    // contraction puts the next correction below 1e-11.
    const bool converged = size <= 1e-11 || (it >= 1 && size <= 1e-9 && previous <= 1e-9) ||
                           (tangent != nullptr && it >= 1 && size <= 1e-8 && size * size / previous <= 1e-11 &&
                            size <= 0.25 * previous);
    if (!converged && size > 0.25 * previous) return false;  // no contraction: not in the path's basin
    if (converged) {
      if (tangent != nullptr) *tangent = lu.solve(-Hs * ds);
      return true;
    }
    previous = size;
  }
  return false;
}

// Newton steps at fixed s after `correct`, while they keep shrinking (at most 3): the
// endpoint to the accuracy of double precision, so that the certification in ball arithmetic
// (strata.py) can start its Krawczyk test at once instead of polishing in 128-bit arithmetic.
template <class Sys>
void refine(const Sys& sys, HVec& y, cplx s) {
  HVec H, Hs;
  HMat Hz;
  double previous = 1e300;
  for (int it = 0; it < 3; ++it) {
    sys.eval(y, s, H, Hz, Hs);
    const HVec dy = SmallLU(Hz).solve(-H);
    const double size = dy.norm();
    if (!dy.allFinite() || !(size < previous)) return;
    y += dy;
    if (size <= 1e-15 * y.norm()) return;
    previous = size;
  }
}

}  // namespace tracker_detail

// Follows z from s = sa to s = sb along the segment, z a solution at sa. Returns false when
// the step size collapses (a singularity on the segment) or the step budget runs out. With
// z_mark, a step ends exactly on t_mark (s = sa + t_mark (sb - sa)) and the point there is
// kept in *z_mark (the endgame's starting point, without restarting the tracker there).
//
// Predictor: Hermite extrapolation through the last (up to four) accepted points of the path
// and their tangents, a polynomial of degree 2m - 1 through m points (local error O(h^(2m))).
// The tangents come free from the corrector's last LU factorisation, so a step costs the
// corrector's two evaluations and factorisations, where the embedded Runge-Kutta predictor
// this replaced (Cash-Karp 5(4)) cost six more per step: 2.7x faster per data set at the same
// tolerance (bench_critical, D = 6). The first step, with no history, is one classical
// Runge-Kutta step. Error estimate: the first Newton correction, which is the predictor's
// distance from the path at the new s; the step size aims it at half of kTol (h ~ err^(-1/2m)),
// growing at most 2x per step. A step is refused when the first correction exceeds 10 kTol,
// or Newton does not contract at once by 4x (path jumping), or the point moves by more than
// 0.3 (1 + |z|).
template <class Sys>
bool track_segment(const Sys& sys, HVec& z, cplx sa, cplx sb, int& steps, int max_steps, double h0 = 0.05,
                   int* failure = nullptr, double kTol = 1e-6, double t_mark = -1.0, HVec* z_mark = nullptr,
                   double tol_after_mark = -1.0) {
  using tracker_detail::velocity;
  const cplx ds = sb - sa;
  double t = 0.0, h = h0;
  // the last accepted points of the path, oldest first: (t, z, dz/dt); the newest is (t, z, dz)
  constexpr int kHistory = 4;
  double ht[kHistory];
  HVec hz[kHistory], hd[kHistory];
  int have = 1;
  ht[0] = 0.0;
  hz[0] = z;
  hd[0] = velocity(sys, z, sa, ds);
  bool rejected = false;
  // the first Newton correction may be this much larger than the target error: the
  // controller aims at kTol, a step is only refused well above it
  double tol = kTol;
  double accept = 10.0 * tol;
  while (t < 1.0) {
    if (steps >= max_steps || h < 1e-13) {
      if (failure != nullptr) *failure = steps >= max_steps ? kFailStepBudget : kFailStepSize;
      return false;
    }
    const HVec& dz = hd[have - 1];
    if (!dz.allFinite()) {
      if (failure != nullptr) *failure = kFailStepSize;
      return false;
    }
    // a step ends exactly on t_mark (where the caller wants the point) and on 1
    const double end = (z_mark != nullptr && t < t_mark) ? t_mark : 1.0;
    const double step = std::min(h, end - t);
    const cplx s = sa + t * ds;
    HVec y;
    if (have >= 2) {
      // the Hermite polynomial through the history (each node doubled: value and tangent),
      // by confluent divided differences in Newton form, evaluated at t + step
      const int m = 2 * have;
      double x[2 * kHistory];
      HVec c[2 * kHistory];
      for (int i = 0; i < have; ++i) {
        x[2 * i] = x[2 * i + 1] = ht[i];
        c[2 * i] = hz[i];
        c[2 * i + 1] = hz[i];
      }
      // order 1 in place, from the bottom: c[i] becomes f[x_{i-1}, x_i]
      for (int i = m - 1; i >= 1; --i) c[i] = (i % 2 == 1) ? hd[i / 2] : HVec((c[i] - c[i - 1]) / (x[i] - x[i - 1]));
      for (int k = 2; k < m; ++k)
        for (int i = m - 1; i >= k; --i) c[i] = (c[i] - c[i - 1]) / (x[i] - x[i - k]);
      const double T = t + step;
      y = c[m - 1];
      for (int i = m - 2; i >= 0; --i) y = c[i] + (T - x[i]) * y;
    } else {
      const HVec k2 = velocity(sys, z + (step / 2) * dz, s + (step / 2) * ds, ds);
      const HVec k3 = velocity(sys, z + (step / 2) * k2, s + (step / 2) * ds, ds);
      const HVec k4 = velocity(sys, z + step * k3, s + step * ds, ds);
      y = z + (step / 6) * (dz + 2.0 * k2 + 2.0 * k3 + k4);
    }
    double err = 0.0;
    HVec dz_next;
    const bool ok = y.allFinite() &&
                    tracker_detail::correct(sys, y, s + step * ds, accept, 4, &dz_next, ds, &err) &&
                    (y - z).norm() <= 0.3 * (1.0 + z.norm()) && dz_next.allFinite();
    // the predictor's order: local error ~ h^order
    const double order = have >= 2 ? 2.0 * have : 5.0;
    if (ok) {
      if (have == kHistory) {
        for (int i = 0; i + 1 < kHistory; ++i) {
          ht[i] = ht[i + 1];
          hz[i] = hz[i + 1];
          hd[i] = hd[i + 1];
        }
        --have;
      }
      t = (step == end - t) ? end : t + step;
      z = y;
      if (z_mark != nullptr && t == t_mark) {
        *z_mark = z;
        if (tol_after_mark > 0) {
          tol = tol_after_mark;
          accept = 10.0 * tol;
        }
      }
      ht[have] = t;
      hz[have] = y;
      hd[have] = dz_next;
      ++have;
      ++steps;
      // aims at half the tolerance (a safety factor on the error, not on the step: with
      // order 8, 0.8 on the step would aim at 0.17 of it)
      const double grow = err > 0 ? std::pow(0.5 * tol / err, 1.0 / order) : 2.0;
      h = step * std::min(rejected ? 1.0 : 2.0, std::max(0.25, grow));
      rejected = false;
    } else {
      const double shrink = err > 0 && err <= accept ? 0.5 : (err > 0 ? std::pow(0.5 * tol / err, 1.0 / order) : 0.25);
      h = step * std::min(0.5, std::max(0.1, shrink));
      rejected = true;
    }
  }
  return true;
}

// Condition number of the Jacobian with its rows scaled to unit length: the equations have
// very different degrees (the patch is linear), so the raw condition number mostly measures
// the scale of z, not how close the point is to a singular one.
template <class Sys>
double jacobian_condition(const Sys& sys, const HVec& z, cplx s) {
  HVec H, Hs;
  HMat Hz;
  sys.eval(z, s, H, Hz, Hs);
  for (Eigen::Index i = 0; i < Hz.rows(); ++i) {
    const double norm = Hz.row(i).norm();
    if (norm > 0) Hz.row(i) /= norm;
  }
  return homotopy_detail::cond(Hz);
}

// Cauchy endgame from z at s = 1 - r0 (real r0 > 0): loops around s = 1 on circles of
// shrinking radius; returns the endpoint estimate, its cycle number and accuracy.
template <class Sys>
bool cauchy_endgame(const Sys& sys, HVec z, double r0, int& steps, int max_steps, HVec& estimate, int& winding,
                    double& accuracy, int& failure) {
  constexpr int kSamples = 8;        // points per loop (trapezoidal rule)
  constexpr int kMaxWinding = 16;
  const double two_pi = 6.283185307179586;
  double r = r0;
  bool have_previous = false;
  HVec previous;
  for (int round = 0; round < 14; ++round) {
    // one or more loops starting from s = 1 - r, until z returns
    const HVec start = z;
    HVec sum = HVec::Zero(z.size());
    int loops = 0;
    bool closed = false;
    double spread = 0.0;  // how far the loop wanders: the scale that closure is judged against
    while (loops < kMaxWinding && !closed) {
      for (int k = 0; k < kSamples; ++k) {
        sum += z;
        spread = std::max(spread, (z - start).norm());
        const cplx sa = 1.0 - r * std::polar(1.0, two_pi * k / kSamples);
        const cplx sb = 1.0 - r * std::polar(1.0, two_pi * (k + 1) / kSamples);
        if (!track_segment(sys, z, sa, sb, steps, max_steps, 0.25, &failure)) return false;
      }
      ++loops;
      // distinct branches around a point of cycle number c are ~ r^(1/c) apart, the
      // tracking error is far smaller: a return within 1e-4 of the loop's spread is a return
      closed = (z - start).norm() <= std::max(1e-8 * (1.0 + start.norm()), 1e-4 * spread);
    }
    if (!closed) {
      failure = kFailNotClosed;
      return false;
    }
    const HVec current = sum / static_cast<double>(loops * kSamples);
    winding = loops;
    if (have_previous) {
      accuracy = (current - previous).norm() / (1.0 + current.norm());
      if (accuracy <= 1e-11) {
        estimate = current;
        return true;
      }
    }
    previous = current;
    have_previous = true;
    estimate = current;
    // move inwards along the real segment
    const double next = r * 0.25;
    if (next < 1e-13) break;
    if (!track_segment(sys, z, cplx(1.0 - r), cplx(1.0 - next), steps, max_steps, 0.05, &failure)) return false;
    r = next;
  }
  if (have_previous && accuracy <= 1e-7) return true;
  failure = kFailNotConverged;
  return false;
}

// Follows one path from q0 (s = 0) to q1 (s = 1); see the file comment.
template <class Sys>
TrackedPath track_to_end(const Sys& sys, HVec z, const TrackerOptions& opt) {
  TrackedPath out;
  int steps = 0;
  const double sE = opt.endgame_start;
  // one continuous track from s = 0 to 1 that keeps the point at s = sE, where the endgame
  // starts when the endpoint is not regular
  HVec zE;
  zE.resize(0);
  HVec zr = z;
  int failure = kFailNone;
  const bool reached = track_segment(sys, zr, cplx(0.0), cplx(1.0), steps, opt.max_steps, 0.05, &failure,
                                     opt.predictor_tolerance, sE, &zE, opt.endgame_tolerance);
  if (zE.size() == 0) {  // lost before the endgame zone
    out.z = zr;
    out.steps = steps;
    out.kind = kEndFailed;
    out.failure = failure;
    return out;
  }
  // a regular endpoint: the straight continuation reaches s = 1 and the Jacobian there is fine
  int straight_steps = steps;
  if (reached && tracker_detail::correct(sys, zr, cplx(1.0), 1e-3, 6)) {
    const double condition = jacobian_condition(sys, zr, cplx(1.0));
    if (condition < 1e8 && zr.allFinite()) {
      tracker_detail::refine(sys, zr, cplx(1.0));
      out.z = zr;
      out.kind = kEndRegular;
      out.winding = 1;
      out.steps = straight_steps;
      out.condition = condition;
      out.accuracy = 0.0;
      return out;
    }
  }
  if (!opt.endgame) {
    out.z = zr;
    out.steps = straight_steps;
    out.kind = kEndFailed;
    out.failure = kFailNotConverged;
    return out;
  }
  HVec estimate;
  int winding = 0;
  double accuracy = 1.0;
  steps = straight_steps;
  if (!cauchy_endgame(sys, zE, 1.0 - sE, steps, opt.max_steps * 4, estimate, winding, accuracy, out.failure)) {
    out.z = zE;
    out.steps = steps;
    out.kind = kEndFailed;
    return out;
  }
  out.z = estimate;
  out.steps = steps;
  out.winding = winding;
  out.accuracy = accuracy;
  out.condition = jacobian_condition(sys, estimate, cplx(1.0));
  double zmax = 0.0;
  for (int i = 0; i < estimate.size(); ++i) zmax = std::max(zmax, std::abs(estimate[i]));
  if (std::abs(estimate[0]) <= 1e-6 * zmax)
    out.kind = kEndInfinity;
  else if (winding > 1 || out.condition >= 1e8)
    out.kind = kEndSingular;
  else {
    // a regular endpoint that the straight tracker missed: polish it
    HVec y = estimate;
    if (tracker_detail::correct(sys, y, cplx(1.0), 1e-3, 6)) {
      tracker_detail::refine(sys, y, cplx(1.0));
      out.z = y;
    }
    out.kind = kEndRegular;
  }
  return out;
}

// Tracks every start (one result per path, independent of the thread count and of how the
// paths are chunked).
template <class Sys>
std::vector<TrackedPath> track_all(const Sys& sys, const std::vector<HVec>& starts, const TrackerOptions& opt,
                                   int threads, const StopCheck& stop_check, bool& interrupted) {
  std::vector<TrackedPath> results(starts.size());
  const bool done = parallel_chunks(
      static_cast<std::ptrdiff_t>(starts.size()), 2, threads,
      [&](std::ptrdiff_t b, std::ptrdiff_t e, int) {
        for (std::ptrdiff_t i = b; i < e; ++i)
          results[static_cast<std::size_t>(i)] = track_to_end(sys, starts[static_cast<std::size_t>(i)], opt);
      },
      stop_check);
  interrupted = !done;
  return results;
}

// Tracks every start solution (rows of `starts`, N columns) from q0 to q1: one result per
// path, independent of the thread count and of how the paths are chunked.
inline std::vector<TrackedPath> track_stratum_paths(const StratumFamily& family, const StratumParams& q0,
                                                    const StratumParams& q1, const std::vector<HVec>& starts,
                                                    const TrackerOptions& opt, int threads,
                                                    const StopCheck& stop_check, bool& interrupted) {
  family.check();
  const auto K = static_cast<Eigen::Index>(family.K);
  for (const StratumParams* q : {&q0, &q1})
    if (q->w.size() != K || q->G.rows() != K || q->G.cols() != K)
      throw std::invalid_argument("parameters: w must have K entries and G be K x K");
  for (const auto& z : starts)
    if (z.size() != family.N) throw std::invalid_argument("starts: each start needs N entries");
  const StratumHomotopy sys(family, q0, q1);
  return track_all(sys, starts, opt, threads, stop_check, interrupted);
}

// The curve of the trace test (strata.py, _trace_test): C = {(z, lambda) : F(z; q0 + lambda dq) = 0}
// over a line of parameters, with unknowns y = (z, lambda) (N + 1 of them) and one more
// equation, moving with s in [0, 1]:
//     E(y, s) = (alpha lambda + beta) (c(s) . z) + s gamma,     c(s) = c0 + s (c1 - c0).
// alpha = 0, beta = 1, gamma = 0: a moving hyperplane c(s) . z = 0 (the monodromy that finds
// the witness points of C on a general hyperplane). alpha = 1, beta = 0, c1 = c0: the pencil
// of (1,1)-forms lambda (c0 . z) = -s gamma through the union of the fibre lambda = 0 and the
// hyperplane c0 . z = 0 (the trace test of Leykin, Rodriguez and Sottile for curves in a
// product of projective spaces).
class TraceCurveSystem {
 public:
  TraceCurveSystem(const StratumHomotopy& line, CVec c0, CVec c1, cplx alpha, cplx beta, cplx gamma)
      : line_(line), c0_(std::move(c0)), dc_(c1 - c0_), alpha_(alpha), beta_(beta), gamma_(gamma) {}

  int size() const { return line_.size() + 1; }

  void eval(const HVec& y, cplx s, HVec& H, HMat& Hz, HVec& Hs) const {
    const int N = line_.size();
    const HVec z = y.head(N);
    const cplx lambda = y[N];
    HVec F, Fs;
    HMat Fz;
    line_.eval(z, lambda, F, Fz, Fs);
    H.resize(N + 1);
    Hz.resize(N + 1, N + 1);
    Hs.resize(N + 1);
    H.head(N) = F;
    Hz.topLeftCorner(N, N) = Fz;
    Hz.col(N).head(N) = Fs;  // d F / d lambda
    Hs.head(N).setZero();
    cplx lz = 0.0, dz = 0.0;
    for (int k = 0; k < N; ++k) {
      const cplx c = c0_[k] + s * dc_[k];
      lz += c * z[k];
      dz += dc_[k] * z[k];
    }
    const cplx m = alpha_ * lambda + beta_;
    H[N] = m * lz + s * gamma_;
    for (int k = 0; k < N; ++k) Hz(N, k) = m * (c0_[k] + s * dc_[k]);
    Hz(N, N) = alpha_ * lz;
    Hs[N] = m * dz + gamma_;
  }

 private:
  const StratumHomotopy& line_;
  CVec c0_, dc_;
  cplx alpha_, beta_, gamma_;
};

// Tracks points (rows: N + 1 entries, z then lambda) of the trace-test curve from s = 0 to
// s = 1, without an endgame: a path counts only if it ends regular.
inline std::vector<TrackedPath> track_trace_paths(const StratumFamily& family, const StratumParams& q0,
                                                  const StratumParams& q1, const CVec& c0, const CVec& c1,
                                                  cplx alpha, cplx beta, cplx gamma, const std::vector<HVec>& starts,
                                                  int threads, const StopCheck& stop_check, bool& interrupted) {
  family.check();
  if (family.N + 1 > kMaxUnknowns) throw std::invalid_argument("family: the trace test needs N <= 15");
  const auto N = static_cast<Eigen::Index>(family.N);
  if (c0.size() != N || c1.size() != N) throw std::invalid_argument("c0, c1: need N entries each");
  for (const auto& y : starts)
    if (y.size() != N + 1) throw std::invalid_argument("starts: each start needs N + 1 entries");
  const StratumHomotopy line(family, q0, q1);
  const TraceCurveSystem sys(line, c0, c1, alpha, beta, gamma);
  TrackerOptions opt;
  opt.endgame = false;
  return track_all(sys, starts, opt, threads, stop_check, interrupted);
}

}  // namespace lcnfast
