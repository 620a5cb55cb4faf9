import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/parse-config.js';
import { daemonCpuSharing, describeUncommitted, timingWarning } from '../../src/experiment/start-warnings.js';

function config(extra = ''): ReturnType<typeof parseConfigText> {
  const text = `target: src/model.py\nscope: src/**\nevaluate_cmd: sh eval.sh\nmetric: val_loss\n${extra}`;
  return parseConfigText(text, { file: '/p/.autoresearch/a/b/config.cfg', dir: '/p/.autoresearch/a/b', id: { domain: 'a', name: 'b', key: 'a/b' }, scope: 'project' });
}

describe('describeUncommitted', () => {
  it('lists paths in scope first, caps the list, and skips the experiment directories', () => {
    const paths = ['README.md', '.autoresearch/a/b/config.cfg', 'eval.sh', 'src/model.py', 'data/', 'notes.txt', 'src/util.py', 'x.txt'];
    expect(describeUncommitted(config(), paths, 'HEAD abc1234')).toBe(
      'your checkout has 7 uncommitted changes the experiment will not see (it starts from HEAD abc1234): ' +
        'src/model.py (in scope), src/util.py (in scope), README.md, eval.sh, data/ and 2 more; commit them first if the experiment should see them',
    );
  });

  it('says nothing for a clean checkout or one where only experiment files changed', () => {
    expect(describeUncommitted(config(), [], 'HEAD abc1234')).toBeNull();
    expect(describeUncommitted(config(), ['.autoresearch/', '.autoresearch/a/b/program.md'], 'HEAD abc1234')).toBeNull();
  });
});

describe('daemonCpuSharing and timingWarning', () => {
  const others = ['x/one'];
  it('evaluations overlap only with concurrency > 1, several default slots and another experiment', () => {
    expect(daemonCpuSharing({ concurrency: 2, evalSlots: 2, namedSlots: false, others })).not.toBeNull();
    expect(daemonCpuSharing({ concurrency: 1, evalSlots: 1, namedSlots: false, others })).toBeNull();
    expect(daemonCpuSharing({ concurrency: 4, evalSlots: 1, namedSlots: true, others })).toBeNull(); // --slots cpu: they take turns
    expect(daemonCpuSharing({ concurrency: 4, evalSlots: 2, namedSlots: true, others })).toBeNull(); // --slots 0,1: dedicated
    expect(daemonCpuSharing({ concurrency: 4, evalSlots: 4, namedSlots: false, others: [] })).toBeNull(); // alone
  });

  it('warns only for a timing metric', () => {
    const sharing = daemonCpuSharing({ concurrency: 2, evalSlots: 2, namedSlots: false, others });
    expect(timingWarning(config(), sharing)).toBeNull(); // val_loss
    expect(timingWarning(config('metric_kind: timing\n'), sharing)).toMatch(/^val_loss looks like a timing \(metric_kind: timing\), and the daemon runs up to 2 experiments at once .* x\/one: .*--concurrency 1`, or `--slots cpu`/);
    expect(timingWarning(config('metric_kind: timing\n'), null)).toBeNull();
  });
});
