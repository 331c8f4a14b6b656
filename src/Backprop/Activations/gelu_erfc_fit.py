#!/usr/bin/env python3
"""Generates the Chebyshev coefficients of Gelu.cs's ErfcSeries (run: python3 gelu_erfc_fit.py; needs mpmath).

G(a) = exp(a^2) * erfc(a) for a in [0, 27.5], as a Chebyshev series in s = (2t - 1 - t_lo)/(1 - t_lo), where
t = 1/(1 + 0.4 a) and t_lo = 1/12 (a = 27.5). Interpolation at the N + 1 Chebyshev points of the first kind, degree
N = 24, in 40-digit arithmetic; the script prints the largest relative error of the series over 400 points of the
interval (4e-18), then the coefficients c0 ... c24 as the shortest decimal strings that round-trip to double.
"""
import mpmath as mp

mp.mp.dps = 40
C, LO, HI, N = mp.mpf('0.4'), mp.mpf(0), mp.mpf('27.5'), 24


def g(a):
    return mp.erfc(a) * mp.exp(a * a)


t_lo, t_hi = 1 / (1 + C * HI), 1 / (1 + C * LO)
nodes = [mp.cos(mp.pi * (k + mp.mpf(1) / 2) / (N + 1)) for k in range(N + 1)]
values = [g((1 / (t_lo + (s + 1) * (t_hi - t_lo) / 2) - 1) / C) for s in nodes]
coefficients = []
for j in range(N + 1):
    total = sum(values[k] * mp.cos(mp.pi * j * (k + mp.mpf(1) / 2) / (N + 1)) for k in range(N + 1))
    coefficients.append(total * 2 / (N + 1) if j > 0 else total / (N + 1))


def clenshaw(s):
    b1 = b2 = 0
    for c in reversed(coefficients[1:]):
        b1, b2 = 2 * s * b1 - b2 + c, b1
    return s * b1 - b2 + coefficients[0]


worst = 0
for i in range(400):
    a = LO + (HI - LO) * mp.mpf(i) / 399
    t = 1 / (1 + C * a)
    worst = max(worst, abs(clenshaw((2 * t - t_lo - t_hi) / (t_hi - t_lo)) / g(a) - 1))
print('largest relative error of the fit:', mp.nstr(worst, 3))
for c in coefficients:
    print(repr(float(c)))
