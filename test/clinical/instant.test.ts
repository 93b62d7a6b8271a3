/** parseInstant's digit-by-digit path for canonical UTC text agrees with the general reader. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { parseInstant, parseInstantGeneral } from '../../src/clinical/instant.ts';

test('canonical UTC instants: the fast path equals the general reader and Date.parse', () => {
  fc.assert(
    fc.property(fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) }), fc.boolean(), (ms, withMillis) => {
      const iso = new Date(ms).toISOString();
      const text = withMillis ? iso : `${iso.slice(0, 19)}Z`;
      const expected = withMillis ? ms : Math.floor(ms / 1000) * 1000;
      assert.equal(parseInstant(text), expected);
      assert.equal(parseInstantGeneral(text), expected);
    }),
    { numRuns: 5000 },
  );
});

test('impossible or malformed canonical-looking text is refused the same way by both paths', () => {
  const cases = [
    '2026-02-29T10:00:00Z', // not a leap year
    '2024-02-29T10:00:00Z', // leap year: valid
    '2100-02-29T00:00:00Z', // century, not leap
    '2000-02-29T00:00:00.000Z', // 400-year leap
    '2026-04-31T10:00:00Z',
    '2026-13-01T10:00:00Z',
    '2026-00-10T10:00:00Z',
    '2026-01-01T24:00:00Z',
    '2026-01-01T23:60:00Z',
    '2026-01-01T23:59:60Z',
    '2026-01-01T10:00:00.12xZ',
    '2026-01-01 10:00:00.000Z',
    '2026-01-0aT10:00:00Z',
    '2026-01-01T10:00:00+01:00',
    '2026-01-01T10:00Z',
  ];
  for (const text of cases) assert.equal(parseInstant(text), parseInstantGeneral(text), text);
  assert.equal(parseInstant('2024-02-29T10:00:00Z'), Date.UTC(2024, 1, 29, 10));
  assert.equal(parseInstant('2026-02-29T10:00:00Z'), null);
  assert.equal(parseInstant('2026-01-01T10:00:00+01:00'), Date.UTC(2026, 0, 1, 9));
});
