import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type JsonValue, canonicalJson, jsonProblem, sha256Hex } from '../../src/trial/canonical.ts';

test('canonical JSON sorts keys at every level and has no whitespace', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: null, y: true }], c: 'x' } }), '{"a":{"c":"x","d":[3,{"y":true,"z":null}]},"b":1}');
  assert.equal(canonicalJson([]), '[]');
  assert.equal(canonicalJson({}), '{}');
  // Keys compare as UTF-16 code units: upper case before lower case, "10" before "9".
  assert.equal(canonicalJson({ b: 0, B: 0, 9: 0, 10: 0 }), '{"10":0,"9":0,"B":0,"b":0}');
});

test('numbers and strings are written as JSON.stringify writes them', () => {
  assert.equal(canonicalJson([-0, 1e21, 0.1, 1e-7, 4420]), '[0,1e+21,0.1,1e-7,4420]');
  assert.equal(canonicalJson('é "q" \n'), '"é \\"q\\" \\n"');
});

test('non-JSON values are refused, never silently dropped', () => {
  assert.match(jsonProblem({ a: undefined }) ?? '', /\$\.a: undefined/);
  assert.match(jsonProblem({ a: [1, Number.NaN] }) ?? '', /\$\.a\[1\]: NaN is not a finite number/);
  assert.match(jsonProblem({ when: new Date(0) }) ?? '', /not a plain object/);
  assert.match(jsonProblem('a\u0000b') ?? '', /U\+0000/);
  assert.throws(() => canonicalJson({ a: Number.POSITIVE_INFINITY } as unknown as JsonValue), /not canonical JSON/);
});

test('canonical form is independent of key insertion order and survives a JSON round trip', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (value) => {
      const v = value as JsonValue;
      const canonical = canonicalJson(v);
      assert.equal(canonicalJson(JSON.parse(canonical) as JsonValue), canonical);
      assert.equal(canonicalJson(JSON.parse(JSON.stringify(v, null, 2)) as JsonValue), canonical);
    }),
  );
});

test('SHA-256 of UTF-8 (FIPS 180-2 test vector)', () => {
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
