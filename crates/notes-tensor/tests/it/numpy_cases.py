"""Writes print test cases for notes-tensor: case_N.npy, case_N.opts, numpy's print(a) as case_N.txt
and repr(a) as case_N.repr; a2s_N.npy, a2s_N.opts and a2s_N.txt (separator, prefix, suffix and
np.array2string's text, NUL-separated).

Usage: python3 numpy_cases.py OUTDIR
"""
import os
import sys

import numpy as np

out = sys.argv[1]
rng = np.random.default_rng(20240601)
cases = []


def add(a, **opts):
    cases.append((np.asarray(a), opts))


# Integers: widths, negatives, signs, every integer dtype, extremes.
add(np.arange(60).reshape(3, 4, 5))
add(100 ** np.flip(np.arange(5)).reshape(1, 5, 1))
add(100 ** np.flip(np.arange(6)).reshape(2, 1, 1, 3))
for dt in ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"]:
    info = np.iinfo(dt)
    add(np.array([info.min, 0, info.max], dtype=dt))
    add(rng.integers(info.min, info.max, size=(4, 7), dtype=dt, endpoint=True))
for sign in ["-", "+", " "]:
    add(np.array([[-3, 0, 12], [7, 8, 9]]), sign=sign)
    add(np.array([0, 5, 17]), sign=sign)
add(rng.integers(-10**12, 10**12, size=(6, 9)))
add(np.array([True, False, True]))
add(rng.random((3, 4, 2)) > 0.5)
add(np.arange(40, dtype="i8"), linewidth=20)

# Floats: precision, suppress, magnitudes, floatmodes, signs.
normal = rng.normal(size=(3, 15))
for precision in [3, 8]:
    for suppress in [False, True]:
        add(normal, precision=precision, suppress=suppress)
        add(normal, precision=precision, suppress=suppress, linewidth=10000, threshold=10000)
add(normal.astype("f4"), precision=3)
for scale in [1e-12, 1e-5, 1e-4, 1e-3, 1.0, 1e3, 1e5, 1e7, 1e8, 1e16, 1e200]:
    x = rng.normal(size=7) * scale
    for dt in ["f8", "f4"]:
        with np.errstate(over="ignore"):
            add(x.astype(dt))
            add(x.astype(dt), suppress=True, precision=4)
add(np.array([1e-5, 1.2345678e-5, 1e100]))
add(np.array([0.0, -0.0, 1.5, -2.25]))
add(np.array([1.0, 2.0, 3.0]))
add(np.array([0.5, 0.25, 100.0]))
for floatmode in ["fixed", "unique", "maxprec", "maxprec_equal"]:
    for dt in ["f8", "f4"]:
        add(np.array([0.3, 0.1234567, 12.5]).astype(dt), floatmode=floatmode)
        add(np.array([1e-5, 1.2e-5, 3.14159e-7]).astype(dt), floatmode=floatmode)
        add((rng.normal(size=(2, 5)) * 10).astype(dt), floatmode=floatmode, precision=4)
for sign in ["-", "+", " "]:
    add(np.array([0.5, 1.25, 3.0]), sign=sign)
    add(np.array([-0.5, 1.25, np.inf]), sign=sign)
    add(np.array([1e-9, 2.5, np.nan]), sign=sign)
# Rounding ties on the exact binary value.
add(np.array([0.125, 2.675, 0.375, 1.005, 0.5, 0.625]), precision=2)
add(np.array([0.5, 1.5, 2.5, 3.5]), precision=0)
add(np.array([0.125, 0.375], dtype="f4"), precision=2)
# A tie between two shortest candidates: Dragon4 takes the even digit.
add(np.array([-2.6492992e-06, 1705419.25], dtype="f4"), floatmode="unique")
# NaN and infinity, with custom strings.
add(np.array([np.nan, np.inf, -np.inf, 1.5]))
add(np.array([np.nan, np.nan]))
add(np.array([np.inf, 1e-9, 3.0]))
add(np.array([np.nan, -np.inf, 0.001]), nanstr="NaN", infstr="Infinity")
add(np.array([np.nan, 1.0], dtype="f4"), nanstr="not a number")
# float32 cutoffs: computed in float32, not widened.
add(np.array([1e6, 1.0], dtype="f4"))
add(np.array([999999.0, 1.0], dtype="f4"))
add(np.array([999999.0, 2000.0], dtype="f4"))
add(np.array([1e-4, 0.05], dtype="f4"))
add(np.array([1e7, 2e7], dtype="f8"))
add(np.array([1e8, 2e7], dtype="f8"))
add(np.array([16777217.0, 3.0], dtype="f4"), suppress=True)
add(np.array([0.1, 0.2, 0.3], dtype="f4"), precision=10, floatmode="fixed")
# 0-d and empty arrays.
for v in [1.5, 1e16, 1e15, 1e-5, 0.0001, -0.0, np.nan, -np.inf, 123456789.123]:
    add(np.array(v))
    add(np.array(v, dtype="f4"))
add(np.array(7))
add(np.array(-7, dtype="i1"))
add(np.array(True))
add(np.array([], dtype="f8"))
add(np.zeros((2, 0), dtype="i8"))
add(np.zeros((0, 3, 4), dtype="f4"))
# Wrapping at 75 and other widths, deep shapes.
add(np.arange(100) * 1.5)
add(rng.normal(size=(2, 3, 30)))
add(rng.normal(size=(2, 2, 2, 3)), precision=3)
add(rng.integers(0, 1000, size=(2, 3, 2, 4)))
add(np.arange(30), linewidth=10)
add(np.arange(30.0), linewidth=1)
# Summarisation: widths come from the corners only.
big = rng.normal(size=(2000, 2000))
big[1000, 1000] = 1e30  # Hidden in the middle: must not switch the layout.
add(big)
add(np.arange(2000 * 30).reshape(2000, 30))
add(np.arange(3000), edgeitems=1)
add(np.arange(24).reshape(2, 3, 4), threshold=5, edgeitems=1)
add(np.arange(120).reshape(2, 3, 4, 5), threshold=10, edgeitems=2)
add(rng.normal(size=(10, 10)), threshold=50, edgeitems=2, precision=2)
# edgeitems=0: numpy takes a[-0:] (the whole axis) for the widths, and prints only "...".
add(rng.random((4, 5)) * np.array([1, 10, 0.1, 100, 1]), threshold=5, edgeitems=0)
add(rng.normal(size=(3, 4, 5)), threshold=10, edgeitems=0)
# legacy 1.13 ignores sign in np.set_printoptions / np.printoptions.
add(np.array([[3, -4], [5, 6]]), sign="+", legacy="1.13")
add(np.array([1.5, -2.0]), sign=" ", legacy="1.13")
# Random mixes of magnitudes, special values and options.
for _ in range(100):
    dt = rng.choice(["f4", "f8"])
    shape = tuple(int(s) for s in rng.integers(1, 5, size=rng.integers(1, 4)))
    x = rng.normal(size=shape) * 10.0 ** rng.uniform(-9, 9, size=shape)
    x[rng.random(shape) < 0.1] = 0.0
    x[rng.random(shape) < 0.05] = rng.choice([np.nan, np.inf, -np.inf])
    x = np.round(x, int(rng.integers(0, 12))) if rng.random() < 0.3 else x
    with np.errstate(over="ignore"):
        x = x.astype(dt)
    add(x, precision=int(rng.integers(0, 11)), suppress=bool(rng.random() < 0.5),
        floatmode=str(rng.choice(["fixed", "unique", "maxprec", "maxprec_equal"])),
        sign=str(rng.choice(["-", "+", " "])), linewidth=int(rng.integers(20, 120)))
# Legacy 1.13 layout.
for a in [np.array([1.5, 2.25, -3.0]), np.array([1e-4, 0.05, -1], dtype="f4"), np.arange(2000),
          np.arange(24).reshape(2, 3, 4), np.array(0.1, dtype="f4"), np.array(1e-5), np.array([np.nan, 1.0]),
          rng.normal(size=(3, 15)), np.arange(2000 * 2.0).reshape(2, 2000)]:
    add(a, legacy="1.13")

# Other legacy modes: float32 switches to scientific notation at 1e8 up to 2.2; repr adds shape=
# to summarised arrays from 2.2 on.
for legacy in ["1.21", "1.25", "2.1", "2.2"]:
    add(np.array([1e7, 2.5], dtype="f4"), legacy=legacy)
    add(np.arange(2000), legacy=legacy)
    add(np.array([True, False]), legacy=legacy)
    add(np.array(1.5, dtype="f4"), legacy=legacy)
add(np.array([1e7, 2.5], dtype="f4"))
# Shapes and types whose repr needs dtype= or shape=, and wrapping of the extras.
for dt in ["?", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f4", "f8"]:
    add(np.zeros((0,), dtype=dt))
    add(np.zeros((0, 3), dtype=dt))
    add(np.zeros((2, 0, 1), dtype=dt))
    add(np.zeros((), dtype=dt))
    add(np.ones((2, 3), dtype=dt))
    add(np.arange(1200).astype(dt).reshape(3, 400), threshold=500)
for width in [10, 20, 26, 27, 28, 30, 40]:
    add(np.arange(12, dtype="i4"), linewidth=width)
    add(np.array([0.5, 0.25, 1.0], dtype="f4"), linewidth=width)
    add(np.arange(6, dtype="u1").reshape(2, 3), linewidth=width)
# Byte order: repr names a non-native dtype by its code (dtype='>i4'), even int64 and float64,
# and np.save keeps the order, which the reader reports.
for dt in [">i2", ">i4", ">i8", ">u2", ">u4", ">u8", ">f4", ">f8", ">?", ">i1", ">u1",
           "<i4", "<f8", "=i8", "<u2"]:
    add(np.arange(3).astype(dt))
    add(np.zeros((0,), dtype=dt))
    add(np.zeros((0, 3), dtype=dt))
    add(np.zeros((), dtype=dt))
    add(np.arange(1200).astype(dt).reshape(3, 400), threshold=500)
    add(np.arange(1200).astype(dt).reshape(3, 400), threshold=500, legacy="2.1")
    add(np.ones((2, 2), dtype=dt), legacy="1.13")
    add(np.array(7, dtype=dt), legacy="1.13")
    for width in [10, 20, 27, 28]:
        add(np.arange(6).astype(dt), linewidth=width)
add(np.array([1e16]))
add(np.array(1e16))
add(np.array(-0.0, dtype="f4"))
add(np.array([True]), legacy="1.13")
add(np.array(True), legacy="1.13")
add(np.array(3, dtype="i2"), legacy="1.13")

# np.array2string with separators, prefixes and suffixes.
a2s = []
for a in [np.arange(30), np.arange(12.0).reshape(3, 4) / 7, np.array([True, False]),
          np.arange(24, dtype="i2").reshape(2, 3, 4), np.array(2.5), np.zeros((0, 2)),
          rng.normal(size=(2000,)), np.array([np.nan, 1.5, -np.inf])]:
    for separator, prefix, suffix in [(", ", "array(", ")"), (",", "", ""), (" ", "x = ", ";"),
                                      ("; ", "     ", ""), (", ", "", "))))))))")]:
        for opts in [{}, {"linewidth": 30}, {"legacy": "1.13"}]:
            a2s.append((a, separator, prefix, suffix, opts))

for i, (a, separator, prefix, suffix, opts) in enumerate(a2s):
    np.save(os.path.join(out, f"a2s_{i}.npy"), a)
    with np.printoptions(**opts):
        text = np.array2string(a, separator=separator, prefix=prefix, suffix=suffix)
    with open(os.path.join(out, f"a2s_{i}.txt"), "w", encoding="utf-8") as f:
        f.write("\0".join([separator, prefix, suffix, text]))
    with open(os.path.join(out, f"a2s_{i}.opts"), "w", encoding="utf-8") as f:
        for key, value in opts.items():
            f.write(f"{key}={value}\n")

for i, (a, opts) in enumerate(cases):
    np.save(os.path.join(out, f"case_{i}.npy"), a)
    with np.printoptions(**opts):
        text = str(a)
        text_repr = repr(a)
    with open(os.path.join(out, f"case_{i}.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(out, f"case_{i}.repr"), "w", encoding="utf-8") as f:
        f.write(text_repr)
    with open(os.path.join(out, f"case_{i}.opts"), "w", encoding="utf-8") as f:
        for key, value in opts.items():
            f.write(f"{key}={value}\n")
print(len(cases), len(a2s))
