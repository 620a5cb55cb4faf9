/** The shipped examples work: the demo shows keep/discard/crash as scripted; example configs parse. */
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { loadExperimentConfig } from '../src/config/parse-config.js';
import { parseExperimentId } from '../src/config/experiment-id.js';
import { cliEnv } from './helpers/project.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

describe('examples', () => {
  it('npm run demo: a real loop shows keep, discard and crash exactly as scripted', async () => {
    const r = await execa('node', [path.join(ROOT, 'examples', 'demo.mjs')], { env: cliEnv(), reject: false, all: true });
    expect(r.all).toMatch(/demo: ok: 10 rows/);
    expect(r.exitCode).toBe(0);
    const project = /project:\s+(\S+)/.exec(String(r.all))?.[1];
    if (project) await fs.rm(project, { recursive: true, force: true });
  });

  it('every .autoresearch.example config is valid', async () => {
    const root = path.join(ROOT, '.autoresearch.example');
    const domains = (await fs.readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory());
    expect(domains.map((d) => d.name).sort()).toEqual(['content', 'engineering', 'marketing', 'prompts']);
    for (const domain of domains) {
      for (const name of await fs.readdir(path.join(root, domain.name))) {
        const dir = path.join(root, domain.name, name);
        const config = await loadExperimentConfig(dir, parseExperimentId(`${domain.name}/${name}`), 'project');
        expect(config.evaluateCmd.length).toBeGreaterThan(0);
        await expect(fs.readFile(path.join(dir, 'program.md'), 'utf8')).resolves.toMatch(/\S/);
      }
    }
  });

  it('the noisy training example sets every noise-aware key', async () => {
    const dir = path.join(ROOT, '.autoresearch.example', 'engineering', 'model-training');
    expect(await loadExperimentConfig(dir, parseExperimentId('engineering/model-training'), 'project')).toMatchObject({
      metric: 'val_bpb',
      repeats: 5,
      aggregate: 'mean',
      noise: { kind: 'auto' },
      confidence: 0.95,
      checkCmd: 'uv run pytest -q',
      guards: [
        { metric: 'memory_gb', op: '<=', bound: 40 },
        { metric: 'val_acc', op: '>=', bound: 0.85 },
      ],
      revalidateEvery: 10,
    });
  });

  it('the cluster example runs its evaluations as SLURM jobs with a GPU each', async () => {
    const dir = path.join(ROOT, '.autoresearch.example', 'engineering', 'model-training-slurm');
    const config = await loadExperimentConfig(dir, parseExperimentId('engineering/model-training-slurm'), 'project');
    expect(config.executor).toBe('slurm');
    expect(config.slurmArgs).toContain('--gres=gpu:1');
  });
});
