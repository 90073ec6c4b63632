"""Writes expand_table.txt: format strings and what supervisor 4.2.5's `expand()` makes of
them (the expansion, or its error message), for `expand/tests.rs`.

Run with the Python that has supervisor installed: python3 gen_expand.py > expand_table.txt
Lines: `OK<TAB>format<TAB>result`, `ERR<TAB>format<TAB>message`, or `UNNAMED<TAB>format<TAB>result`
where Python substituted the whole mapping for a conversion without a name (refused by us);
formats and results have no tabs or newlines. The seed is fixed, so the table only changes with this script."""

import random

from supervisor.options import expand

NAMES = {"a": "xy", "n": 42, "m": -7, "z": 0, "b": 123456789012, "e": "",
         "c": "\u00e9", "q": "it's", "w": "\u20ac\U0001f600 \x01"}
ALPHABET = "%()%%-+ #0123456789.*hlLsrdiuoxXceEfFgGaHqz'\u00e9 anbmzcqwe"


class Mapping(dict):
    """Notes when the mapping itself is converted (`%s` without a name)."""
    used = False

    def __str__(self):
        Mapping.used = True
        return dict.__str__(self)

    def __repr__(self):
        Mapping.used = True
        return dict.__repr__(self)


def spec(rng):
    out = "%"
    if rng.random() < 0.8:
        out += "(" + rng.choice(list(NAMES) + ["nope"] if rng.random() < 0.05 else list(NAMES)) + ")"
    out += "".join(rng.choice("-+ #0") for _ in range(rng.choice([0, 0, 1, 2])))
    if rng.random() < 0.5:
        out += str(rng.randint(0, 40))
    elif rng.random() < 0.05:
        out += "*"
    if rng.random() < 0.5:
        out += "." + (str(rng.randint(0, 40)) if rng.random() < 0.95 else "*")
    if rng.random() < 0.1:
        out += rng.choice("hlL")
    out += rng.choice("srdiuoxXceEfFgGa" * 4 + "HqzK%\u00e9'")
    return out


def main():
    rng = random.Random(20261206)
    seen = set()
    formats = []
    for _ in range(6000):
        formats.append("".join(spec(rng) if rng.random() < 0.7 else rng.choice("ab ") for _ in range(rng.randint(1, 3))))
    for _ in range(1500):
        formats.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 8))))
    for f in formats:
        if f in seen or "\t" in f or "\n" in f:
            continue
        seen.add(f)
        Mapping.used = False
        try:
            expand(f, Mapping(NAMES), "t")
        except ValueError:
            pass
        try:
            out = expand(f, NAMES, "t")
            print("%s\t%s\t%s" % ("UNNAMED" if Mapping.used else "OK", f, out))
        except ValueError as e:
            print("ERR\t%s\t%s" % (f, e))


main()
