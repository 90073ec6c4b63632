"""Writes float_repr_table.txt for pyfloat.rs's tests: `<bits as 16 hex digits> <repr>` per
line, from CPython's repr(float). Fixed seed: the table only changes with this script.

Also used by the 300 000-double test (`pyfloat::tests::matches_cpython_on_many_doubles`),
which runs it with an argument: python3 gen_float_repr.py 300000"""

import random
import struct
import sys


def doubles(n, rng):
    for i in range(n):
        kind = i % 3
        if kind == 0:
            x = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
            if x != x or x in (float("inf"), float("-inf")):
                continue
        elif kind == 1:
            # integers with a short binary fraction: where exact ties between two shortest
            # candidates live (111659285584252.125)
            x = rng.getrandbits(rng.randint(1, 53)) / (1 << rng.randint(0, 12))
            if rng.random() < 0.5:
                x = -x
        else:
            x = rng.random() * 10.0 ** rng.randint(-30, 30)
        yield x
    for x in (0.0, -0.0, 5e-324, 1.7976931348623157e308, 1e16, 1e15, 1e-5, 1e-4, 0.1,
              111659285584252.125, 2.0 ** -1074, 2.0 ** 1023):
        yield x


n = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
for x in doubles(n, random.Random(20261206 + n)):
    print("%016x %r" % (struct.unpack("<Q", struct.pack("<d", x))[0], x))
