// Small complex vectors and matrices shared by the critical-point engine's tracker
// (stratum_homotopy.hpp) and certifier (krawczyk.hpp). (The total-degree tracker that once
// lived here was used by tests only and has left the shipped core.)
#pragma once

#include <Eigen/Dense>
#include <complex>

namespace lcnfast {

using cplx = std::complex<double>;

// Systems of up to kMaxUnknowns unknowns: vectors and matrices live on the stack (a path
// costs a few hundred small LU solves; heap allocations would dominate them).
constexpr int kMaxUnknowns = 16;
using HVec = Eigen::Matrix<cplx, Eigen::Dynamic, 1, 0, kMaxUnknowns, 1>;
using HMat = Eigen::Matrix<cplx, Eigen::Dynamic, Eigen::Dynamic, 0, kMaxUnknowns, kMaxUnknowns>;

// Complex product without the C99 Annex G inf/nan recovery (GCC otherwise calls __muldc3 for
// every product, several times slower); the values here are finite or the path is dropped.
inline cplx cmul(cplx a, cplx b) {
  return {a.real() * b.real() - a.imag() * b.imag(), a.real() * b.imag() + a.imag() * b.real()};
}

namespace homotopy_detail {

// Condition number (2-norm) of a small matrix; 1e300 for a singular one.
inline double cond(const HMat& A) {
  Eigen::JacobiSVD<HMat> svd(A);
  const auto& sv = svd.singularValues();
  return sv[sv.size() - 1] > 0 ? sv[0] / sv[sv.size() - 1] : 1e300;
}

}  // namespace homotopy_detail

}  // namespace lcnfast
