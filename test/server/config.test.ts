/** Deployment settings read from the environment (src/config.ts): the SOFA preset of the bedside views. */
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
