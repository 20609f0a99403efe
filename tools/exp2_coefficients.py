"""The coefficients of FloatExp's polynomial: the degree-6 polynomial p minimising max |p(r) / 2^r - 1| over
r in [-1/2, 1/2] (Remez's exchange algorithm, 40 digits), printed as the float32 literals FloatExp.java holds.

    python3 tools/exp2_coefficients.py        # needs mpmath (Debian: python3-mpmath)

Before rounding to float32 the fit is within 1.9e-9 of 2^r; FloatExp's Horner evaluation in float32, rounding
included, is within 8.0e-8 (1.34 units in the last place of 1) for every float r in [-1/2, 1/2] (all of them
checked against a long double reference by a scratch C++ program; FloatExpSumTest checks 4.2M). Taylor's series
needs degree 7 for the same (7.3e-8), i.e. one fused multiply-add more per lane.
"""
import struct

import mpmath as mp

mp.mp.dps = 40


def relative_error(c, x):
    return mp.polyval(c[::-1], x) / mp.power(2, x) - 1


def remez(degree, lo=mp.mpf(-0.5), hi=mp.mpf(0.5), iterations=20, grid=4000):
    m = degree + 2
    xs = [(lo + hi) / 2 + (hi - lo) / 2 * mp.cos(mp.pi * (m - 1 - i) / (m - 1)) for i in range(m)]
    for _ in range(iterations):
        # p(x_i) - 2^x_i = (-1)^i E 2^x_i at the m reference points
        a = mp.matrix(m, m)
        rhs = mp.matrix(m, 1)
        for i, x in enumerate(xs):
            for j in range(degree + 1):
                a[i, j] = x ** j
            a[i, degree + 1] = (-1) ** i * mp.power(2, x)
            rhs[i] = mp.power(2, x)
        solution = mp.lu_solve(a, rhs)
        c = [solution[j] for j in range(degree + 1)]
        points = [lo + (hi - lo) * i / grid for i in range(grid + 1)]
        values = [relative_error(c, x) for x in points]
        extrema = [0] + [i for i in range(1, grid) if (values[i] - values[i - 1]) * (values[i + 1] - values[i]) <= 0] + [grid]
        alternating = []
        for i in extrema:
            if alternating and mp.sign(values[i]) == mp.sign(values[alternating[-1]]):
                if abs(values[i]) > abs(values[alternating[-1]]):
                    alternating[-1] = i
            else:
                alternating.append(i)
        while len(alternating) > m:
            alternating.pop(0 if abs(values[alternating[0]]) < abs(values[alternating[-1]]) else -1)
        xs = [points[i] for i in alternating]
    return c, max(abs(v) for v in values)


def as_float32(x):
    return struct.unpack("<f", struct.pack("<f", float(x)))[0]


def java_literal(f):
    mantissa, exponent = float.hex(f).split("p")
    return mantissa.rstrip("0").rstrip(".") + "p" + exponent + "f"


if __name__ == "__main__":
    coefficients, worst = remez(6)
    print(f"degree 6, max relative error before rounding to float32: {mp.nstr(worst, 3)}")
    for i, c in enumerate(coefficients):
        f = as_float32(c)
        print(f"C{i} = {java_literal(f)},  // {f!r}")
