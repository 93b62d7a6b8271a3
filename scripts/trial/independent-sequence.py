#!/usr/bin/env python3
"""Independent re-implementation of ImmunoGuide's randomisation list (docs/trial.md), in
Python's standard library only, so a statistician can check `immunoguide trial sequence`
without running ImmunoGuide. It produced the known list pinned in test/trial/sequence.test.ts.

usage: independent-sequence.py SEED_HEX STRATUM_KEY LENGTH [--trial immunosep]
       [--arms anakinra,placebo] [--block-sizes 2,4,6]
Arms are listed in the definition's order, ratio 1 each (as in the ImmunoSep definition).
"""
import argparse
import hashlib
import hmac
import struct


def stream(seed: bytes, purpose: str, label: str):
    key = hmac.new(seed, f"immunoguide/drbg/v1\0{purpose}\0{label}".encode(), hashlib.sha256).digest()
    counter = 0
    while True:
        block = hmac.new(key, struct.pack(">Q", counter), hashlib.sha256).digest()
        counter += 1
        for offset in range(0, 32, 4):
            yield struct.unpack(">I", block[offset:offset + 4])[0]


def below(n: int, words) -> int:
    limit = 2**32 - (2**32 % n)
    while True:
        word = next(words)
        if word < limit:
            return word % n


def shuffle(items, words):
    result = list(items)
    for i in range(len(result) - 1, 0, -1):
        j = below(i + 1, words)
        result[i], result[j] = result[j], result[i]
    return result


CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def kit_number(seed: bytes, trial: str, key: str, position: int) -> str:
    words = stream(seed, "kit", f"{trial}\0{key}\0{position}")
    bits = (next(words) << 32) | next(words)
    code = "".join(CROCKFORD[(bits >> (64 - 5 * (i + 1))) & 31] for i in range(12))
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("seed")
    parser.add_argument("stratum")
    parser.add_argument("length", type=int)
    parser.add_argument("--trial", default="immunosep")
    parser.add_argument("--arms", default=None, help="default: anakinra,placebo for MALS, interferon-gamma,placebo otherwise")
    parser.add_argument("--block-sizes", default="2,4,6")
    args = parser.parse_args()
    seed = bytes.fromhex(args.seed)
    arms = args.arms.split(",") if args.arms else (
        ["anakinra", "placebo"] if "immuneClass=MALS" in args.stratum.split(";") else ["interferon-gamma", "placebo"])
    sizes = [int(s) for s in args.block_sizes.split(",")]
    words = stream(seed, "allocation", f"{args.trial}\0{args.stratum}")
    slots = []
    block = 0
    while len(slots) < args.length:
        block += 1
        size = sizes[below(len(sizes), words)]
        for i, arm in enumerate(shuffle([a for a in arms for _ in range(size // len(arms))], words)):
            slots.append((len(slots) + 1, block, size, i + 1, arm))
    for position, blk, size, in_block, arm in slots[:args.length]:
        print(position, blk, size, in_block, arm, kit_number(seed, args.trial, args.stratum, position))


if __name__ == "__main__":
    main()
