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
// homogeneous of degree 3 deg(p) - 1, bilinear in (w, Gc). The evaluation (H, its Jacobian
// and its s-derivative) uses the product structure when the family gives its groups (a few
// products of the groups' polynomials), else the expanded terms of p (any form).
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
#include <array>
#include <cmath>
#include <complex>
#include <memory>
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
  // Optional: the form as a product prod_g q_g(X^S_g)^part[g] of polynomials q_g with
  // count[g] + 1 coefficients, each a linear form in z. Without group_map, S_g = 1 and q_g =
  // h X^m + e_1 X^(m-1) Y + ... + e_m Y^m with m = count[g] and the e of the groups in order
  // (strata.py's chart form); with it, group_dilation holds the S_g and group_map the
  // coefficients (sum_g (count[g] + 1)) x N, row-major, of the linear forms (strided.py's
  // dilated factors). Given, the homotopy evaluates the form and its derivatives from this
  // structure (a few polynomial products) instead of term by term; it checks that both agree.
  std::vector<int> group_part, group_count, group_dilation;
  std::vector<double> group_map;

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
    if (group_part.size() != group_count.size()) throw std::invalid_argument("groups: parts and counts differ in number");
    const bool mapped = !group_map.empty() || !group_dilation.empty();
    if (mapped && group_dilation.size() != group_part.size())
      throw std::invalid_argument("groups: one dilation per group");
    if (!group_part.empty()) {
      int degree = 0, unknowns = 1, rows = 0;
      for (std::size_t g = 0; g < group_part.size(); ++g) {
        if (group_part[g] < 1 || group_count[g] < 1) throw std::invalid_argument("groups: parts and counts must be >= 1");
        const int S = mapped ? group_dilation[g] : 1;
        if (S < 1) throw std::invalid_argument("groups: dilations must be >= 1");
        degree += group_part[g] * group_count[g] * S;
        unknowns += group_count[g];
        rows += group_count[g] + 1;
      }
      if (degree != K - 1) throw std::invalid_argument("groups: need sum part * count * dilation = K - 1");
      if (!mapped && unknowns != N) throw std::invalid_argument("groups: need 1 + sum count = N");
      if (mapped && group_map.size() != static_cast<std::size_t>(rows) * static_cast<std::size_t>(N))
        throw std::invalid_argument("groups: the map needs sum (count + 1) rows of N coefficients");
      for (double c : group_map)
        if (!std::isfinite(c)) throw std::invalid_argument("groups: the map must be finite");
    }
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
  struct Scratch {
    FVec p, g;
    FNMat P, GP;
    FMat G;
    HMat A2, B2, PtGP;
    // eval_product: per group q^(a-2), q^(a-1), q^a; prefix and suffix products of the q^a
    std::array<std::array<std::array<cplx, kMaxForm>, 3>, kMaxForm> qpow;
    std::array<std::array<cplx, kMaxForm>, kMaxForm + 1> pre, suf;
    // polynomial temporaries (a local array of std::complex is zero-filled on every call)
    std::array<cplx, kMaxForm> q, cur, tmp, other, S, T, mid, t2;
    std::array<cplx, 2 * kMaxForm> cw, cg;
  };
  // One scratch per thread. The hot path reads a trivially constructed thread_local pointer
  // (a thread_local object with a constructor is reached through an initialisation guard:
  // two TLS lookups per evaluation, 5% of the tracker); the object itself is owned by a
  // second thread_local, which frees it when the thread ends.
  static Scratch& scratch() {
    thread_local Scratch* ptr = nullptr;
    if (ptr == nullptr) ptr = new_scratch();
    return *ptr;
  }
  static Scratch* new_scratch() {
    thread_local std::unique_ptr<Scratch> owner;
    owner = std::make_unique<Scratch>();
    return owner.get();
  }

 public:
  StratumHomotopy(const StratumFamily& family, const StratumParams& q0, const StratumParams& q1)
      : f_(family), w0_(q0.w), G0_(q0.G), dw_(q1.w - q0.w), dG_(q1.G - q0.G) {
    if (family.K > kMaxForm) throw std::invalid_argument("family: at most 16 form coefficients");
    for (int e : family.exps) max_exp_ = std::max(max_exp_, static_cast<std::size_t>(e));
    if (!family.group_part.empty()) {
      // each coefficient of each group as its nonzero (unknown, weight) pairs
      const bool mapped = !family.group_map.empty();
      const auto uN = static_cast<std::size_t>(family.N);
      std::size_t row = 0;
      for (std::size_t g = 0, b0 = 1; g < family.group_part.size(); ++g) {
        const int m = family.group_count[g];
        dilation_.push_back(mapped ? family.group_dilation[g] : 1);
        std::vector<std::vector<std::pair<int, double>>> coefficients(static_cast<std::size_t>(m) + 1);
        for (int i = 0; i <= m; ++i, ++row) {
          if (mapped) {
            for (std::size_t k = 0; k < uN; ++k)
              if (const double c = family.group_map[row * uN + k]; c != 0.0)
                coefficients[static_cast<std::size_t>(i)].emplace_back(static_cast<int>(k), c);
          } else {
            coefficients[static_cast<std::size_t>(i)].emplace_back(i == 0 ? 0 : static_cast<int>(b0) + i - 1, 1.0);
          }
        }
        b0 += static_cast<std::size_t>(m);
        map_.push_back(std::move(coefficients));
      }
      // the product structure must describe the same form as the terms: compare the form,
      // its gradient and both Hessians from either code at a fixed point and fixed w, G
      const int N = family.N, K = family.K;
      HVec z(N);
      for (int i = 0; i < N; ++i) z[i] = cplx(0.3 + 0.17 * i, -0.2 + 0.11 * i * i - 0.05 * i);
      FVec w(K);
      FMat G(K, K);
      for (int i = 0; i < K; ++i) {
        w[i] = cplx(0.5 - 0.13 * i, 0.21 * i - 0.4);
        for (int j = 0; j < K; ++j) G(i, j) = cplx(std::cos(1.0 + i + j + 0.3 * i * j), std::sin(2.0 + 0.7 * i * j));
      }
      Scratch& ws = scratch();
      FVec p1, g1, p2, g2;
      jets_terms(ws, z, w, G, p1, g1);
      const FNMat P1 = ws.P;
      const HMat A1 = ws.A2, B1 = ws.B2;
      jets_product(ws, z, w, G, p2, g2);
      const double scale = 1.0 + p1.norm() + P1.norm() + A1.norm() + B1.norm();
      const double gap = (p1 - p2).norm() + (P1 - ws.P).norm() + (A1 - ws.A2).norm() + (B1 - ws.B2).norm();
      if (!(gap <= 1e-10 * scale))
        throw std::invalid_argument("groups: the product of the groups is not the form of the terms");
      product_ = true;
    }
  }

  int size() const { return f_.N; }

  // H, dH/dz and dH/ds at (z, s). Not reentrant within a thread (eval does not call itself).
  void eval(const HVec& z, cplx s, HVec& H, HMat& Hz, HVec& Hs) const {
    // the matrices live in a per-thread scratch: constructing a fixed-capacity matrix of
    // std::complex zero-fills its whole 16 x 16 buffer, 6% of the tracker's time
    Scratch& ws = scratch();
    const FVec w = w0_ + s * dw_;
    FMat& G = ws.G;
    G = G0_ + s * dG_;
    FVec& p = ws.p;
    FVec& g = ws.g;
    if (product_)
      jets_product(ws, z, w, G, p, g);
    else
      jets_terms(ws, z, w, G, p, g);
    assemble(ws, z, p, ws.P, ws.A2, ws.B2, w, G, g, H, Hz, Hs);
  }

 private:
  // From the form p, its gradient P (K x N), the Hessians A2 of w.p and B2 of g.p (g = G p
  // held fixed; both symmetric, N x N) and w, G at s: H, Hz, Hs.
  void assemble(Scratch& ws, const HVec& z, const FVec& p, const FNMat& P, const HMat& A2, const HMat& B2,
                const FVec& w, const FMat& G, const FVec& g, HVec& H, HMat& Hz, HVec& Hs) const {
    const int N = f_.N, n = N - 1;
    const FVec dg = dG_ * p;
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

  // out = a * b for polynomials of degrees da, db (coefficient arrays, lowest index first)
  static void conv(const cplx* a, int da, const cplx* b, int db, cplx* out) {
    for (int i = 0; i <= da + db; ++i) out[i] = 0.0;
    for (int i = 0; i <= da; ++i)
      for (int j = 0; j <= db; ++j) out[i + j] += cmul(a[i], b[j]);
  }

  // p, its gradient P and the Hessians A2 of w.p and B2 of g.p from the product structure
  // p = prod_g q_g(X^S_g)^a_g. With S_g = a_g q_g^(a_g - 1) prod_{k != g} F_k (F_k = q_k^a_k,
  // all dilated), the derivative of p in the coefficient i of q_g is S_g shifted by i S_g;
  // the second derivative in the coefficients i of q_g and j of q_h is T_gh shifted by
  // i S_g + j S_h, T_gh = a_g a_h q_g^(a_g - 1) q_h^(a_h - 1) prod_{k != g, h} F_k (g != h),
  // T_gg = a_g (a_g - 1) q_g^(a_g - 2) prod_{k != g} F_k. So the Hessian of w.p at those
  // coefficients is the correlation of w with T_gh at that lag; each coefficient is a linear
  // form in z (map_), so the rows and columns in z are sums over its terms (chain rule).
  void jets_product(Scratch& ws, const HVec& z, const FVec& w, const FMat& G, FVec& p, FVec& gv) const {
    const int N = f_.N, K = f_.K;
    const int Gn = static_cast<int>(f_.group_part.size());
    auto& Q = ws.qpow;  // per group: q^(a-2), q^(a-1), q^a (rows 0, 1, 2), dilated
    cplx* const q = ws.q.data();
    cplx* const tmp = ws.tmp.data();
    cplx* const cur = ws.cur.data();
    const auto group = [&](int g) { return static_cast<std::size_t>(g); };
    // the degree in X of q_g(X^S_g)
    const auto qdeg = [&](int g) { return f_.group_count[group(g)] * dilation_[group(g)]; };
    for (int g = 0; g < Gn; ++g) {
      const int m = f_.group_count[group(g)], a = f_.group_part[group(g)], S = dilation_[group(g)];
      const int dq = m * S;
      for (int i = 0; i <= dq; ++i) q[i] = 0.0;
      for (int i = 0; i <= m; ++i) {
        cplx c = 0.0;
        for (const auto& [k, weight] : map_[group(g)][static_cast<std::size_t>(i)]) c += weight * z[k];
        q[i * S] = c;
      }
      // powers q^0 .. q^a, keeping the last three
      cur[0] = 1.0;
      int d = 0;
      for (int k = 0; k <= a; ++k) {
        if (k >= a - 2) {
          auto& row = Q[group(g)][static_cast<std::size_t>(k - (a - 2))];
          for (int i = 0; i <= d; ++i) row[static_cast<std::size_t>(i)] = cur[i];
        }
        if (k == a) break;
        conv(cur, d, q, dq, tmp);
        d += dq;
        for (int i = 0; i <= d; ++i) cur[i] = tmp[i];
      }
    }
    const auto deg = [&](int g) { return f_.group_part[group(g)] * qdeg(g); };
    const auto qp = [&](int g, int k) { return Q[group(g)][static_cast<std::size_t>(k)].data(); };
    // prefix and suffix products of the full powers F_g = q_g^a_g
    auto& pre = ws.pre;
    auto& suf = ws.suf;
    int dpre[kMaxForm + 1], dsuf[kMaxForm + 1];
    pre[0][0] = 1.0;
    dpre[0] = 0;
    for (int g = 0; g < Gn; ++g) {
      conv(pre[group(g)].data(), dpre[g], qp(g, 2), deg(g), pre[group(g) + 1].data());
      dpre[g + 1] = dpre[g] + deg(g);
    }
    suf[group(Gn)][0] = 1.0;
    dsuf[Gn] = 0;
    for (int g = Gn; g-- > 0;) {
      conv(qp(g, 2), deg(g), suf[group(g) + 1].data(), dsuf[g + 1], suf[group(g)].data());
      dsuf[g] = dsuf[g + 1] + deg(g);
    }
    p.resize(K);
    for (int al = 0; al < K; ++al) p[al] = pre[group(Gn)][static_cast<std::size_t>(al)];
    gv = G * p;
    FNMat& P = ws.P;
    P.setZero(K, N);
    HMat& A2 = ws.A2;
    HMat& B2 = ws.B2;
    A2.setZero(N, N);
    B2.setZero(N, N);
    cplx* const other = ws.other.data();
    cplx* const Sp = ws.S.data();
    cplx* const T = ws.T.data();
    cplx* const mid = ws.mid.data();
    cplx* const t2 = ws.t2.data();
    cplx* const cw = ws.cw.data();
    cplx* const cg = ws.cg.data();
    // adds the correlations of w and g with T (degree dT) at lags i S_g + j S_h to the Hessians
    const auto add = [&](int g, int h, const cplx* Tp, int dT) {
      const int mg = f_.group_count[group(g)], mh = f_.group_count[group(h)];
      const int Sg = dilation_[group(g)], Sh = dilation_[group(h)];
      for (int l = 0; l <= mg * Sg + mh * Sh; ++l) {
        cplx sw = 0.0, sg = 0.0;
        for (int k = 0; k <= dT && k + l < K; ++k) {
          sw += cmul(w[k + l], Tp[k]);
          sg += cmul(gv[k + l], Tp[k]);
        }
        cw[l] = sw;
        cg[l] = sg;
      }
      for (int i = 0; i <= mg; ++i)
        for (const auto& [r, cr] : map_[group(g)][static_cast<std::size_t>(i)])
          for (int j = 0; j <= mh; ++j)
            for (const auto& [c, cc] : map_[group(h)][static_cast<std::size_t>(j)]) {
              const double weight = cr * cc;
              A2(r, c) += weight * cw[i * Sg + j * Sh];
              B2(r, c) += weight * cg[i * Sg + j * Sh];
            }
    };
    for (int g = 0; g < Gn; ++g) {
      const int a = f_.group_part[group(g)], m = f_.group_count[group(g)], S = dilation_[group(g)];
      const int dq = qdeg(g);
      // other = prod_{k != g} F_k
      conv(pre[group(g)].data(), dpre[g], suf[group(g) + 1].data(), dsuf[g + 1], other);
      const int dother = dpre[g] + dsuf[g + 1];
      // S_g = a q^(a-1) other
      conv(qp(g, 1), (a - 1) * dq, other, dother, Sp);
      const int dS = (a - 1) * dq + dother;
      for (int i = 0; i <= m; ++i)
        for (const auto& [col, weight] : map_[group(g)][static_cast<std::size_t>(i)]) {
          const double scale = static_cast<double>(a) * weight;
          for (int k = 0; k <= dS; ++k) P(k + i * S, col) += scale * Sp[k];
        }
      // T_gg = a (a - 1) q^(a-2) other
      if (a >= 2) {
        conv(qp(g, 0), (a - 2) * dq, other, dother, T);
        const int dT = (a - 2) * dq + dother;
        for (int k = 0; k <= dT; ++k) T[k] *= static_cast<double>(a * (a - 1));
        add(g, g, T, dT);
      }
      // T_gh for h > g: a_g a_h q_g^(a_g-1) q_h^(a_h-1) prod_{k != g, h} F_k, counted for (g, h) and (h, g)
      mid[0] = 1.0;
      int dmid = 0;  // prod_{g < k < h} F_k
      for (int h = g + 1; h < Gn; ++h) {
        const int ah = f_.group_part[group(h)];
        conv(pre[group(g)].data(), dpre[g], mid, dmid, t2);  // prod_{k < h, k != g}
        conv(t2, dpre[g] + dmid, suf[group(h) + 1].data(), dsuf[h + 1], other);
        int d = dpre[g] + dmid + dsuf[h + 1];
        conv(other, d, qp(g, 1), (a - 1) * dq, t2);
        d += (a - 1) * dq;
        conv(t2, d, qp(h, 1), (ah - 1) * qdeg(h), T);
        d += (ah - 1) * qdeg(h);
        for (int k = 0; k <= d; ++k) T[k] *= static_cast<double>(a * ah);
        add(g, h, T, d);
        add(h, g, T, d);
        conv(mid, dmid, qp(h, 2), deg(h), t2);
        dmid += deg(h);
        for (int k = 0; k <= dmid; ++k) mid[k] = t2[k];
      }
    }
  }

  // the same term by term (any form given by its terms)
  void jets_terms(Scratch& ws, const HVec& z, const FVec& w, const FMat& G, FVec& p, FVec& g) const {
    const int N = f_.N, K = f_.K;
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
    // pass 1: the form p and its gradient P (K x N)
    p = FVec::Zero(K);
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
    g = G * p;
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
  }

 private:

  const StratumFamily& f_;
  bool product_ = false;
  // the product structure: per group its dilation and, per coefficient, (unknown, weight)
  std::vector<int> dilation_;
  std::vector<std::vector<std::vector<std::pair<int, double>>>> map_;
  FVec w0_;
  FMat G0_;
  FVec dw_;
  FMat dG_;
  std::size_t max_exp_ = 0;
};

// How a path ended: the tracker gives the first four; kEndDegenerate is the engine's verdict
// afterwards (lcnfast._homotopy: a limit that is not a point of the family), never the tracker's.
// Bound as _core.PathKind, with the names of the Python PathKind.
enum EndpointKind : int { kEndRegular = 0, kEndInfinity = 1, kEndSingular = 2, kEndFailed = 3, kEndDegenerate = 4 };

// Why a path failed (TrackedPath::failure).
enum PathFailure : int {
  kFailNone = 0,
  kFailStepSize = 1,      // the step size collapsed (a near-singularity on the way)
  kFailStepBudget = 2,    // too many steps
  kFailNotClosed = 3,     // the endgame's loops did not close within the largest winding number tried
  kFailNotConverged = 4,  // the endgame's estimates did not settle (no endgame: reached s = 1, not refined)
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
    // reached s = 1 but not refined there (kFailNotConverged: z is the point at s = 1 to the
    // tracker's accuracy), or lost on the way (z is where it stopped)
    out.z = zr;
    out.steps = straight_steps;
    out.kind = kEndFailed;
    out.failure = reached ? kFailNotConverged : failure;
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
