import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { autoresearchHome, discoverExperiments, mostRecentlyActive, resolveExperiment, type DiscoveredExperiment } from '../../src/config/discover.js';
import { AutoresearchError } from '../../src/core/errors.js';
import { makeTempDir, writeFiles } from '../helpers/git-repo.js';

const CFG = 'target: a.py\nevaluate_cmd: ./bench\nmetric: score\n';

async function setup(): Promise<{ project: string; home: string; env: NodeJS.ProcessEnv }> {
  const project = await makeTempDir('ar-project-');
  const home = await makeTempDir('ar-home-');
  return { project, home, env: { AUTORESEARCH_HOME: home } };
}

function summary(list: DiscoveredExperiment[]): string[] {
  return list.map((e) => `${e.scope}:${e.id.key}`);
}

async function rejection(promise: Promise<unknown>): Promise<AutoresearchError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AutoresearchError);
    return error as AutoresearchError;
  }
  throw new Error('expected a rejection');
}

describe('autoresearchHome', () => {
  it('uses $AUTORESEARCH_HOME, made absolute', () => {
    expect(autoresearchHome({ AUTORESEARCH_HOME: '/srv/ar' })).toBe('/srv/ar');
    expect(autoresearchHome({ AUTORESEARCH_HOME: 'rel/ar' })).toBe(path.resolve('rel/ar'));
  });

  it('defaults to ~/.autoresearch', () => {
    expect(autoresearchHome({ HOME: '/home/someone' })).toBe('/home/someone/.autoresearch');
    expect(autoresearchHome({ HOME: '/home/someone', AUTORESEARCH_HOME: '' })).toBe('/home/someone/.autoresearch');
  });
});

describe('discoverExperiments', () => {
  it('finds experiments with a config.cfg in both scopes, skipping everything else, sorted by id', async () => {
    const { project, home, env } = await setup();
    await writeFiles(path.join(project, '.autoresearch'), {
      'engineering/search/config.cfg': CFG,
      'engineering/search/results.tsv': 'commit\tmetric\tstatus\tdescription\n',
      'engineering/no-config/results.tsv': '',
      'Engineering/upper/config.cfg': CFG, // domain must be lower-case
      'engineering/bad name/config.cfg': CFG,
      'engineering/config-is-dir/config.cfg/x': '',
      'content/a..b/config.cfg': CFG,
      'config.yaml': 'domains: [engineering]\n', // the seed skill's root-level file
      '.gitignore': '*\n',
      'stray-file': '',
    });
    await fs.writeFile(path.join(project, '.autoresearch', 'engineering', 'not-a-dir'), '');
    await writeFiles(home, { 'custom/prompts/config.cfg': CFG, 'engineering/search/config.cfg': CFG, 'marketing/copy/config.cfg': CFG });

    const found = await discoverExperiments(project, env);
    expect(summary(found)).toEqual(['user:custom/prompts', 'project:engineering/search', 'user:engineering/search', 'user:marketing/copy']);
    expect(found.find((e) => e.scope === 'project')).toEqual({
      id: { domain: 'engineering', name: 'search', key: 'engineering/search' },
      scope: 'project',
      dir: path.join(project, '.autoresearch', 'engineering', 'search'),
    });
  });

  it('follows a symlinked experiment directory', async () => {
    const { project, env } = await setup();
    const elsewhere = await makeTempDir('ar-elsewhere-');
    await writeFiles(elsewhere, { 'config.cfg': CFG });
    await fs.mkdir(path.join(project, '.autoresearch', 'engineering'), { recursive: true });
    await fs.symlink(elsewhere, path.join(project, '.autoresearch', 'engineering', 'linked'));
    expect(summary(await discoverExperiments(project, env))).toEqual(['project:engineering/linked']);
  });

  it('returns nothing when neither scope directory exists', async () => {
    const { project } = await setup();
    expect(await discoverExperiments(project, { AUTORESEARCH_HOME: path.join(project, 'missing-home') })).toEqual([]);
  });

  it('does not list experiments twice when the project .autoresearch is the user home', async () => {
    const { project } = await setup();
    await writeFiles(project, { '.autoresearch/engineering/x/config.cfg': CFG });
    const env = { AUTORESEARCH_HOME: path.join(project, '.autoresearch') };
    expect(summary(await discoverExperiments(project, env))).toEqual(['project:engineering/x']);
    expect((await resolveExperiment(project, 'engineering/x', env)).scope).toBe('project');
  });
});

describe('resolveExperiment', () => {
  it('finds an experiment in project scope, or else in user scope', async () => {
    const { project, home, env } = await setup();
    await writeFiles(project, { '.autoresearch/engineering/p/config.cfg': CFG });
    await writeFiles(home, { 'engineering/u/config.cfg': CFG });
    expect(await resolveExperiment(project, 'engineering/p', env)).toMatchObject({ scope: 'project', dir: path.join(project, '.autoresearch/engineering/p') });
    expect(await resolveExperiment(project, 'engineering/u', env)).toMatchObject({ scope: 'user', dir: path.join(home, 'engineering/u') });
  });

  it('refuses an id found in both scopes, naming both paths', async () => {
    const { project, home, env } = await setup();
    await writeFiles(project, { '.autoresearch/engineering/x/config.cfg': CFG });
    await writeFiles(home, { 'engineering/x/config.cfg': CFG });
    const error = await rejection(resolveExperiment(project, 'engineering/x', env));
    expect(error.code).toBe('BAD_INPUT');
    expect(error.message).toContain(path.join(project, '.autoresearch/engineering/x/config.cfg'));
    expect(error.message).toContain(path.join(home, 'engineering/x/config.cfg'));
  });

  it('lists the existing ids, with a did-you-mean, when the id is not found', async () => {
    const { project, home, env } = await setup();
    await writeFiles(project, { '.autoresearch/engineering/search-latency/config.cfg': CFG });
    await writeFiles(home, { 'content/blog/config.cfg': CFG });
    const error = await rejection(resolveExperiment(project, 'engineering/search-latncy', env));
    expect(error.code).toBe('EXPERIMENT_NOT_FOUND');
    expect(error.message).toContain(path.join(project, '.autoresearch/engineering/search-latncy/config.cfg'));
    expect(error.message).toContain(path.join(home, 'engineering/search-latncy/config.cfg'));
    expect(error.message).toContain('existing experiments: content/blog, engineering/search-latency (did you mean `engineering/search-latency`?)');

    const far = await rejection(resolveExperiment(project, 'marketing/ads', env));
    expect(far.message).toContain('existing experiments: content/blog, engineering/search-latency');
    expect(far.message).not.toContain('did you mean');
  });

  it('says how to create one when there are no experiments at all', async () => {
    const { project, env } = await setup();
    const error = await rejection(resolveExperiment(project, 'engineering/x', env));
    expect(error.code).toBe('EXPERIMENT_NOT_FOUND');
    expect(error.message).toContain('no experiments exist yet; create one with `autoresearch init engineering/x');
  });

  it('does not count a directory without config.cfg as an experiment', async () => {
    const { project, env } = await setup();
    await writeFiles(project, { '.autoresearch/engineering/x/results.tsv': '' });
    expect((await rejection(resolveExperiment(project, 'engineering/x', env))).code).toBe('EXPERIMENT_NOT_FOUND');
  });

  it('validates the id first', async () => {
    const { project, env } = await setup();
    const error = await rejection(resolveExperiment(project, '../etc', env));
    expect(error.code).toBe('BAD_INPUT');
    expect(error.message).toContain('found `../etc`');
  });
});

describe('mostRecentlyActive', () => {
  it('returns null for no experiments', async () => {
    expect(await mostRecentlyActive([])).toBeNull();
  });

  it('picks the newest of state.json, results.tsv and config.cfg across experiments', async () => {
    const { project, env } = await setup();
    const root = path.join(project, '.autoresearch', 'engineering');
    await writeFiles(root, {
      'a/config.cfg': CFG,
      'a/results.tsv': '',
      'b/config.cfg': CFG,
      'b/state.json': '{}',
      'c/config.cfg': CFG,
    });
    const at = (file: string, seconds: number) => fs.utimes(path.join(root, file), seconds, seconds);
    await at('a/config.cfg', 1000);
    await at('a/results.tsv', 5000);
    await at('b/config.cfg', 4000);
    await at('b/state.json', 3000);
    await at('c/config.cfg', 2000);
    const experiments = await discoverExperiments(project, env);
    expect((await mostRecentlyActive(experiments))?.id.key).toBe('engineering/a');

    await at('b/state.json', 6000);
    expect((await mostRecentlyActive(experiments))?.id.key).toBe('engineering/b');

    await at('c/config.cfg', 7000);
    expect((await mostRecentlyActive(experiments))?.id.key).toBe('engineering/c');
  });
});
