/**
 * A kill between a durable write and its rename leaves `state.json.<pid>-<ms>-<n>.tmp`
 * (and one inside the lock's creation `run.lock.<pid>-<ms>-<base36>.tmp`).
 * The next start removes those of dead writers and reports it; a live writer's (another
 * process saving state.json right now) is left alone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { projectWithBaseline } from './helpers/interrupted.js';

it('removes temp files of writers that died, keeps a live writer\'s', async () => {
  const project = await projectWithBaseline(['echo 4 > value.txt']);
  const dead = execa('true');
  await dead;
  const deadTemp = path.join(project.expDir, `state.json.${dead.pid}-1700000000000-0.tmp`);
  // A kill inside the lock's creation (temp file, then link) leaves one of these.
  const deadLockTemp = path.join(project.expDir, `run.lock.${dead.pid}-1700000000000-k3j9x2.tmp`);
  const liveTemp = path.join(project.expDir, `state.json.${process.pid}-1700000000000-0.tmp`);
  for (const file of [deadTemp, deadLockTemp, liveTemp]) fs.writeFileSync(file, '{"half": ');

  const r = await runCli(['--path', project.root, 'run', project.id, '--max-experiments', '1'], { env: project.env });
  expect(r.exitCode, r.stderr).toBe(0);
  const removed = [path.basename(deadLockTemp), path.basename(deadTemp)].sort();
  expect(r.stderr).toContain(`removed 2 temp file(s) of writes cut short by a kill in ${project.expDir}: `);
  for (const name of removed) expect(r.stderr).toContain(name);
  expect(fs.existsSync(deadTemp)).toBe(false);
  expect(fs.existsSync(deadLockTemp)).toBe(false);
  expect(fs.existsSync(liveTemp)).toBe(true);
});
