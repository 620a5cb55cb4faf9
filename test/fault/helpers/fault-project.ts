/**
 * The project the random-kill tests run: test/helpers/project.ts's value.txt project, with
 * an agent that makes a seeded pseudo-random edit per iteration and an evaluation that
 * takes 50-300 ms, sometimes leaves a marked grandchild, and records each finished run in
 * a file outside the repository.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir } from '../../helpers/git-repo.js';
import { makeProject, type TestProject } from '../../helpers/project.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/fault/', import.meta.url));

export interface FaultProject extends TestProject {
  tag: string;
  /** "<iteration> <HEAD> <incarnation>" per finished evaluation. */
  finishedFile: string;
  branch: string;
  /** The CLI environment of one incarnation: children inherit FAULT_INCARNATION. */
  envFor(incarnation: number): Record<string, string>;
}

/** With `setup`, the experiment has a setup_cmd that takes ~0.6 s (fixtures/fault/setup.sh). */
export async function makeFaultProject(tag: string, opts: { setup?: boolean; config?: Record<string, string> } = {}): Promise<FaultProject> {
  const project = await makeProject({
    files: { 'evaluate.sh': fs.readFileSync(path.join(FIXTURES, 'evaluate.sh'), 'utf8') },
    config: {
      agent: `sh ${path.join(FIXTURES, 'random-agent.sh')}`,
      evaluate_cmd: 'sh evaluate.sh',
      max_consecutive_crashes: '1000',
      eval_timeout: '30s',
      agent_timeout: '30s',
      setup_cmd: opts.setup === true ? `sh ${path.join(FIXTURES, 'setup.sh')}` : '',
      ...opts.config,
    },
  });
  const finishedFile = path.join(await makeTempDir('ar-finished-'), 'finished-evals.txt');
  fs.writeFileSync(finishedFile, '');
  return {
    ...project,
    tag,
    finishedFile,
    branch: `autoresearch/${project.id}`,
    envFor: (incarnation) => ({ ...project.env, FAULT_TAG: tag, FAULT_FINISHED: finishedFile, FAULT_INCARNATION: String(incarnation) }),
  };
}
