import { describe, expect, it } from 'vitest';
import { EXPERIMENT_ID_EXPECTED, parseExperimentId, tryParseExperimentId } from '../../src/config/experiment-id.js';
import { AutoresearchError } from '../../src/core/errors.js';

describe('parseExperimentId', () => {
  it.each([
    ['engineering/search-latency', 'engineering', 'search-latency'],
    ['custom_2/v1.2_B', 'custom_2', 'v1.2_B'],
    ['a-b/v.2-lock', 'a-b', 'v.2-lock'],
  ])('accepts %s', (text, domain, name) => {
    expect(parseExperimentId(text)).toEqual({ domain, name, key: `${domain}/${name}` });
  });

  it.each(['../x', 'eng/../x', 'eng/..', 'eng/a..b', 'eng/.', 'eng/my exp', 'eng', 'a/b/c', 'Eng/x', '/x', 'eng/', '', 'eng/x/', 'eng/x;rm', 'eng/.hidden', 'eng/x.lock', 'eng/x.'])(
    'refuses `%s` with BAD_INPUT naming the expected form and the input',
    (text) => {
      let caught: unknown;
      try {
        parseExperimentId(text);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(AutoresearchError);
      const error = caught as AutoresearchError;
      expect(error.code).toBe('BAD_INPUT');
      expect(error.message).toContain(`expected ${EXPERIMENT_ID_EXPECTED}`);
      expect(error.message).toContain(`found \`${text}\``);
      expect(tryParseExperimentId(text)).toBeNull();
    },
  );
});
