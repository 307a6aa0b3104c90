"""Independent pure-numpy references, written from docs/conventions.rst alone.

Nothing here calls lcnfast: each function is the definition, coded as plainly as possible.
"""

from __future__ import annotations

import numpy as np


def as_pairs(arch_k, arch_s):
    """Per-layer (k, k') and (s, s') pairs from 1D ints or 2D pairs."""
    k = [tuple(x) if isinstance(x, tuple) else (x, 1) for x in arch_k]
    s = [tuple(x) if isinstance(x, tuple) else (x, 1) for x in arch_s]
    return k, s


def apply_layer(x, w, s, circular):
    """One layer by its definition: y[i, i'] = sum_{j, j'} w[j, j'] x[s i + j, s' i' + j'].

    x and w are 2D (1D data are passed as (d, 1) and (k, 1)); indices wrap for circular layers.
    """
    d, dp = x.shape
    k, kp = w.shape
    if circular:
        out_shape = (d // s[0], dp // s[1])
    else:
        out_shape = ((d - k) // s[0] + 1, (dp - kp) // s[1] + 1)
    y = np.zeros(out_shape)
    for i in range(out_shape[0]):
        for ip in range(out_shape[1]):
            acc = 0.0
            for j in range(k):
                for jp in range(kp):
                    r, c = s[0] * i + j, s[1] * ip + jp
                    if circular:
                        r, c = r % d, c % dp
                    acc += w[j, jp] * x[r, c]
            y[i, ip] = acc
    return y


def layer_matrix(w, d_in, s, circular):
    """Matrix of a layer, column by column: the layer applied to unit inputs (row-major flattening)."""
    w = np.asarray(w, dtype=float)
    w2 = w.reshape(w.shape[0], -1)
    d_in = d_in if isinstance(d_in, tuple) else (d_in, 1)
    s = s if isinstance(s, tuple) else (s, 1)
    cols = []
    for n in range(d_in[0] * d_in[1]):
        e = np.zeros(d_in[0] * d_in[1])
        e[n] = 1.0
        cols.append(apply_layer(e.reshape(d_in), w2, s, circular).ravel())
    return np.stack(cols, axis=1)


def dilate(w, S):
    """w(x^S, z^S'): insert S-1 zeros between rows and S'-1 between columns."""
    k, kp = w.shape
    out = np.zeros(((k - 1) * S[0] + 1, (kp - 1) * S[1] + 1))
    out[:: S[0], :: S[1]] = w
    return out


def poly_mul2(a, b):
    """Product of two bivariate polynomials (coefficient arrays), by the definition."""
    out = np.zeros((a.shape[0] + b.shape[0] - 1, a.shape[1] + b.shape[1] - 1))
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            out[i : i + b.shape[0], j : j + b.shape[1]] += a[i, j] * b
    return out


def end_to_end(filters, k, s, modulus=None):
    """v = prod_l w_l(x^{S_l}, z^{S'_l}), folded modulo (x^n - 1, z^n' - 1) when modulus is given.

    filters: list of arrays of shape (k_l,) or (k_l, k'_l). Returns a 2D array (K, K').
    """
    k, s = as_pairs(k, s)
    v = np.ones((1, 1))
    S = (1, 1)
    for w, sl in zip(filters, s):
        w2 = np.asarray(w, dtype=float).reshape(len(w), -1)
        v = poly_mul2(v, dilate(w2, S))
        S = (S[0] * sl[0], S[1] * sl[1])
    if modulus is not None:
        n, np_ = modulus
        folded = np.zeros((min(v.shape[0], n), min(v.shape[1], np_)))
        for i in range(v.shape[0]):
            for j in range(v.shape[1]):
                folded[i % n, j % np_] += v[i, j]
        v = folded
    return v


def network_matrix(filters, k, s, d0, circular):
    """T_{w_L} ... T_{w_1} from layer_matrix, with widths propagated by the definitions."""
    k, s = as_pairs(k, s)
    d = d0 if isinstance(d0, tuple) else (d0, 1)
    M = None
    for w, kl, sl in zip(filters, k, s):
        T = layer_matrix(np.asarray(w).reshape(kl), d, sl, circular)
        M = T if M is None else T @ M
        if circular:
            d = (d[0] // sl[0], d[1] // sl[1])
        else:
            d = ((d[0] - kl[0]) // sl[0] + 1, (d[1] - kl[1]) // sl[1] + 1)
    return M


def jacobian(filters, k, s, modulus=None):
    """mu is multilinear, so d mu / d w_l[t] = mu(w_1, ..., e_t, ..., w_L). Returns (K*K', P)."""
    cols = []
    for l, w in enumerate(filters):
        w = np.asarray(w, dtype=float)
        for t in range(w.size):
            e = np.zeros(w.size)
            e[t] = 1.0
            replaced = list(filters)
            replaced[l] = e.reshape(w.shape)
            cols.append(end_to_end(replaced, k, s, modulus).ravel())
    return np.stack(cols, axis=1)


def _widths(k, s, d0, circular):
    k, s = as_pairs(k, s)
    d = [d0 if isinstance(d0, tuple) else (d0, 1)]
    for kl, sl in zip(k, s):
        prev = d[-1]
        if circular:
            d.append((prev[0] // sl[0], prev[1] // sl[1]))
        else:
            d.append(((prev[0] - kl[0]) // sl[0] + 1, (prev[1] - kl[1]) // sl[1] + 1))
    return d


def raw_loss_and_grads(filters, k, s, d0, circular, X, Y):
    """Mean squared error on raw data and its gradient for each layer filter, by explicit
    layer matrices: T_l is linear in w_l, T_l = sum_j w_l[j] E_lj with E_lj = T(e_j), so
    dL/dw_l[j] = (2/N) <R, A_l E_lj B_l> with R = T X - Y, A_l = T_L..T_{l+1}, B_l = T_{l-1}..T_1 X.
    """
    kp, sp = as_pairs(k, s)
    widths = _widths(k, s, d0, circular)
    N = X.shape[0]
    Xf = X.reshape(N, -1).T  # (d0, N)
    Yf = Y.reshape(N, -1).T
    mats = [layer_matrix(np.asarray(w).reshape(kl), widths[l], sl, circular)
            for l, (w, kl, sl) in enumerate(zip(filters, kp, sp))]
    T = np.eye(Xf.shape[0])
    for M in mats:
        T = M @ T
    R = T @ Xf - Yf
    loss = float(np.sum(R * R) / N)
    grads = []
    for l, (w, kl, sl) in enumerate(zip(filters, kp, sp)):
        A = np.eye(mats[-1].shape[0])
        for M in reversed(mats[l + 1:]):
            A = A @ M
        Bm = Xf
        for M in mats[:l]:
            Bm = M @ Bm
        g = np.zeros(int(np.prod(kl)))
        for j in range(g.size):
            e = np.zeros(g.size)
            e[j] = 1.0
            E = layer_matrix(e.reshape(kl), widths[l], sl, circular)
            g[j] = 2.0 / N * np.sum(R * (A @ E @ Bm))
        grads.append(g.reshape(np.asarray(w).shape))
    return loss, grads


def gd_on_raw_data(filters, k, s, d0, circular, X, Y, lr, steps):
    """Plain gradient descent on the raw-data loss; returns the losses and end-to-end filters
    at steps 0..steps and the final filters."""
    filters = [np.array(w, dtype=float) for w in filters]
    losses, vs = [], []
    modulus = (d0 if isinstance(d0, tuple) else (d0, 1)) if circular else None
    for step in range(steps + 1):
        loss, grads = raw_loss_and_grads(filters, k, s, d0, circular, X, Y)
        losses.append(loss)
        vs.append(end_to_end(filters, k, s, modulus))
        if step < steps:
            filters = [w - lr * g for w, g in zip(filters, grads)]
    return np.array(losses), np.array(vs), filters


def stratum_tangent_space(roots, multiplicities):
    """Tangent vectors of the multiple-root stratum at prod (x - r_j)^{m_j} (coefficients
    ascending, standard chart): the form itself and its derivatives in each root."""
    P = np.polynomial.polynomial
    base = np.array([1.0 + 0j])
    for r, m in zip(roots, multiplicities):
        base = P.polymul(base, P.polypow([-r, 1.0], m))
    vectors = [base]
    for j, (r, m) in enumerate(zip(roots, multiplicities)):
        d = np.array([1.0 + 0j])
        for k, (s, q) in enumerate(zip(roots, multiplicities)):
            d = P.polymul(d, P.polypow([-s, 1.0], q - 1 if k == j else q))
        vectors.append(P.polymul(d, [-m, 0.0]))  # d/dr (x - r)^m = -m (x - r)^(m-1)
    return [np.pad(w, (0, len(base) - len(w))) for w in vectors]
