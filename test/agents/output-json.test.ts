import { describe, expect, it } from 'vitest';
import { splitOutput } from '../../src/agents/output-json.js';

describe('splitOutput', () => {
  it('reads NDJSON events and keeps the other lines as text', () => {
    const out = splitOutput('Reading prompt from stdin...\n{"type":"thread.started","thread_id":"t1"}\n\n{"type":"turn.started"}\nWARN something\n');
    expect(out.objects).toEqual([{ type: 'thread.started', thread_id: 't1' }, { type: 'turn.started' }]);
    expect(out.text).toEqual(['Reading prompt from stdin...', 'WARN something']);
  });

  it('reads one document, compact or pretty-printed', () => {
    expect(splitOutput('{"type":"result","is_error":false}').objects).toEqual([{ type: 'result', is_error: false }]);
    const pretty = JSON.stringify({ error: { type: 'TerminalQuotaError', message: 'm', code: 1 } }, null, 2);
    expect(splitOutput(`${pretty}\n`).objects).toEqual([{ error: { type: 'TerminalQuotaError', message: 'm', code: 1 } }]);
  });

  it('reads a pretty-printed document that follows log lines, and the text after it', () => {
    const pretty = JSON.stringify({ error: { code: 429, status: 'RESOURCE_EXHAUSTED' } }, null, 2);
    const out = splitOutput(`Loaded cached credentials.\n${pretty}\nbye\n`);
    expect(out.objects).toEqual([{ error: { code: 429, status: 'RESOURCE_EXHAUSTED' } }]);
    expect(out.text).toEqual(['Loaded cached credentials.', 'bye']);
  });

  it('flattens a JSON array of events (claude --output-format json --verbose)', () => {
    expect(splitOutput('[{"type":"system","subtype":"init"},{"type":"result"},3]').objects).toEqual([
      { type: 'system', subtype: 'init' },
      { type: 'result' },
    ]);
  });

  it('recovers an event spliced into the middle of another line (claude-code #49640)', () => {
    const event = '{"type":"rate_limit_event","rate_limit_info":{"status":"rejected","resetsAt":1781539200}}';
    const stdout = [
      '{"type":"system","subtype":"init"}',
      `{"type":"assistant","message":{"content":[{"type":"text","text":"partial {text}${event}`,
      ' rest of the text"}]}}',
      '{"type":"result","subtype":"success"}',
    ].join('\n');
    const out = splitOutput(stdout);
    expect(out.objects.map((o) => o['type'])).toEqual(['system', 'rate_limit_event', 'result']);
    expect(out.objects[1]).toEqual(JSON.parse(event));
    expect(out.text).toEqual([' rest of the text"}]}}']); // the fragment that does not start like JSON
  });

  it('recovers events written back to back on one line', () => {
    const out = splitOutput('{"type":"a","x":"}{"}{"type":"b"}');
    expect(out.objects).toEqual([{ type: 'a', x: '}{' }, { type: 'b' }]);
  });

  it('drops lines that look like JSON but are garbage, without throwing', () => {
    const out = splitOutput('{not json\n[1, 2\n{"type":"ok"}\n{"type":"cut off","a":');
    expect(out.objects).toEqual([{ type: 'ok' }]);
    expect(out.text).toEqual([]);
  });

  it('handles an unclosed pretty document by treating its lines one by one', () => {
    const out = splitOutput('{\n  "a": 1,\nplain text\n');
    expect(out.objects).toEqual([]);
    expect(out.text).toEqual(['  "a": 1,', 'plain text']);
  });
});
