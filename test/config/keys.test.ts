import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS, KEYS } from '../../src/config/keys.js';

describe('KEYS', () => {
  // `init` writes each example as a commented `key: example` line: uncommented, it must parse.
  it.each(CONFIG_KEYS)('the example of %s is a valid value', (key) => {
    const spec = KEYS[key];
    expect(spec.parse(spec.example)).toMatchObject({ ok: true });
  });

  it.each(['repeats', 'aggregate', 'confidence', 'revalidate_every'] as const)('the default of %s is what its defaultText says', (key) => {
    const spec = KEYS[key];
    expect(spec.parse(spec.defaultText ?? '')).toEqual({ ok: true, value: spec.default });
  });
});
