"""The critical-point engine: one tracker, one certifier, one bookkeeping, families plugged in.

A *family* (:class:`~lcnfast._homotopy.family.Family`) is a polynomial system with
parameters: a cone of forms ``v = c p(z)`` parametrised by homogeneous unknowns
``z = (h, e)``, whose critical points for ``l(v) = (v - u)^T G (v - u)`` are the solutions of
``a_j b - a b_j / 2 = 0`` (``a = w . p``, ``b = p . Gc p``, ``w = R^T G u``, ``Gc = R^T G R``
for the family's chart matrix ``R``). What varies between families is written in the
family's class; everything else is written once here:

* :mod:`.family` -- the contract (:class:`Family`), the path outcomes (:class:`PathKind`),
  random complex parameters;
* :mod:`.start` -- the start system of a family: monodromy, the trace test, the cache on
  disk, the families kept in memory (:func:`family_for`);
* :mod:`.certify` -- Krawczyk tests of endpoints (C++ interval arithmetic for all points
  at once, 128-bit balls for the rest) and the proof that a box holds a point of the family
  (not a degenerate form);
* :mod:`.solve` -- tracking a start system to a user's data in each chart, detours for
  failed and jumped paths, clusters of singular endpoints, the bookkeeping of how every path
  ended (:func:`solve`).

Families: :class:`lcnfast.strata.StratumFamily` (the multiple-root strata of binary forms)
and :class:`lcnfast.strided.DilatedFamily` (products of polynomials in ``x^S``: the Zariski
closures of strided function spaces and their multiple-root sub-families). This package is
internal: its names are documented interfaces for the rooms ``strata`` and ``strided`` and
for the tests, not part of the public API.
"""

from __future__ import annotations

__all__: list[str] = []
