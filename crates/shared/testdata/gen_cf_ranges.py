#!/usr/bin/env python3
"""Print the code-point ranges of Unicode general category Cf (format characters).

Regenerates cf-ranges.txt, which key.rs's FORMAT_CHARS table is tested against:

    pip install unicodedata2==<version of unicode_normalization::UNICODE_VERSION>
    python3 gen_cf_ranges.py > cf-ranges.txt

Uses the unicodedata2 backport when installed (the standard library's
unicodedata is tied to the interpreter's Unicode version, e.g. 14.0.0 in 3.11).
"""
try:
    import unicodedata2 as ud
except ImportError:
    import unicodedata as ud

ranges = []
for cp in range(0x110000):
    if ud.category(chr(cp)) != "Cf":
        continue
    if ranges and ranges[-1][1] == cp - 1:
        ranges[-1][1] = cp
    else:
        ranges.append([cp, cp])

print(f"# Unicode {ud.unidata_version} general category Cf, from gen_cf_ranges.py")
for a, b in ranges:
    print(f"{a:04X}..{b:04X}")
