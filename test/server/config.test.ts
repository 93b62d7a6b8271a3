/** Deployment settings read from the environment (src/config.ts): the SOFA preset of the bedside views, the embedded database thread. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.ts';

test('IMMUNOGUIDE_SOFA_PRESET: defaults to mimic-iv, accepts a preset id, refuses anything else with the list', () => {
  assert.equal(loadConfig({}, '/tmp').sofaPreset, 'mimic-iv');
  assert.equal(loadConfig({ IMMUNOGUIDE_SOFA_PRESET: 'ricu' }, '/tmp').sofaPreset, 'ricu');
  assert.equal(loadConfig({ IMMUNOGUIDE_SOFA_PRESET: ' vincent1996 ' }, '/tmp').sofaPreset, 'vincent1996');
  assert.throws(() => loadConfig({ IMMUNOGUIDE_SOFA_PRESET: 'apache' }, '/tmp'), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /IMMUNOGUIDE_SOFA_PRESET must be one of mimic-iv, ricu, vincent1996, got "apache"/);
    return true;
  });
});

test('IMMUNOGUIDE_PGLITE_THREAD: the embedded database runs in a worker thread unless set to false; anything else is refused', () => {
  assert.equal(loadConfig({}, '/tmp').pgliteThread, true);
  assert.equal(loadConfig({ IMMUNOGUIDE_PGLITE_THREAD: '' }, '/tmp').pgliteThread, true);
  assert.equal(loadConfig({ IMMUNOGUIDE_PGLITE_THREAD: 'false' }, '/tmp').pgliteThread, false);
  assert.equal(loadConfig({ IMMUNOGUIDE_PGLITE_THREAD: ' FALSE ' }, '/tmp').pgliteThread, false);
  assert.equal(loadConfig({ IMMUNOGUIDE_PGLITE_THREAD: 'true' }, '/tmp').pgliteThread, true);
  assert.throws(() => loadConfig({ IMMUNOGUIDE_PGLITE_THREAD: 'no' }, '/tmp'), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /IMMUNOGUIDE_PGLITE_THREAD must be true or false, got "no"/);
    return true;
  });
});
