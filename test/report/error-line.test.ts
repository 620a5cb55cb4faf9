/** The line of a log that says why a process failed (report/error-line.ts), on logs as the tools print them. */
import { describe, expect, it } from 'vitest';
import { errorLine, lastLine, visibleLines } from '../../src/report/error-line.js';

/** Python 3.11, `python3 train.py` with `def f(x)` missing its colon (stderr verbatim). */
const PYTHON_SYNTAX_ERROR = `step 0: loading data
  File "/home/u/proj/train.py", line 41
    def forward(self, x)
                        ^
SyntaxError: expected ':'
`;

/** Python 3.11: an exception raised inside the standard library, called from the user's code. */
const PYTHON_TRACEBACK = `epoch 1 loss 2.3
Traceback (most recent call last):
  File "/tmp/whylogs/t2.py", line 7, in <module>
    load()
  File "/tmp/whylogs/t2.py", line 4, in load
    return json.loads("{bad")
           ^^^^^^^^^^^^^^^^^^
  File "/root/.pyenv/versions/3.11.7/lib/python3.11/json/__init__.py", line 346, in loads
    return _default_decoder.decode(s)
           ^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/root/.pyenv/versions/3.11.7/lib/python3.11/json/decoder.py", line 353, in raw_decode
    obj, end = self.scan_once(s, idx)
               ^^^^^^^^^^^^^^^^^^^^^^
json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)
`;

/** PyTorch 2.x running out of GPU memory inside a library frame, after a tqdm bar. */
const CUDA_OOM = `train:  45%|████▌     | 45/100 [00:10<00:12,  4.50it/s]\rtrain:  46%|████▌     | 46/100 [00:10<00:12,  4.50it/s]
Traceback (most recent call last):
  File "/home/u/nanogpt/train.py", line 264, in <module>
    logits, loss = model(X, Y)
                   ^^^^^^^^^^^
  File "/home/u/.venv/lib/python3.11/site-packages/torch/nn/modules/module.py", line 1511, in _wrapped_call_impl
    return self._call_impl(*args, **kwargs)
  File "/home/u/nanogpt/model.py", line 181, in forward
    att = att.softmax(dim=-1)
  File "/home/u/.venv/lib/python3.11/site-packages/torch/nn/functional.py", line 1858, in softmax
    ret = input.softmax(dim)
torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 23.65 GiB of which 1.12 GiB is free. Including non-PyTorch memory, this process has 22.52 GiB memory in use.
`;

/** Node 20, an uncaught Error thrown by the user's script (stderr verbatim). */
const NODE_ERROR = `/tmp/whylogs/t.js:2
  throw new Error("boom: shape mismatch");
  ^

Error: boom: shape mismatch
    at f (/tmp/whylogs/t.js:2:9)
    at Object.<anonymous> (/tmp/whylogs/t.js:4:1)
    at Module._compile (node:internal/modules/cjs/loader:1521:14)
    at node:internal/main/run_main_module:28:49

Node.js v20.20.2
`;

/** Node 20, a script that does not parse. */
const NODE_SYNTAX_ERROR = `/tmp/whylogs/s.js:1
const x = {;
           ^

SyntaxError: Unexpected token ';'
    at wrapSafe (node:internal/modules/cjs/loader:1464:18)
    at Module._compile (node:internal/modules/cjs/loader:1495:20)

Node.js v20.20.2
`;

/** Node 20, an ES module importing a package that is not installed: the throw site is node's own. */
const NODE_MODULE_NOT_FOUND = `node:internal/modules/esm/resolve:873
  throw new ERR_MODULE_NOT_FOUND(packageName, fileURLToPath(base), null);
        ^

Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'nope' imported from /tmp/whylogs/m.mjs
    at packageResolve (node:internal/modules/esm/resolve:873:9)
    at moduleResolve (node:internal/modules/esm/resolve:946:18) {
  code: 'ERR_MODULE_NOT_FOUND'
}

Node.js v20.20.2
`;

/** pytest 9 -q with one failing test. */
const PYTEST = `F.                                                                       [100%]
=================================== FAILURES ===================================
___________________________________ test_add ___________________________________

    def test_add():
>       assert add(1, 2) == 3
E       assert -1 == 3
E        +  where -1 = add(1, 2)

test_x.py:5: AssertionError
=========================== short test summary info ============================
FAILED test_x.py::test_add - assert -1 == 3
1 failed, 1 passed in 0.68s
`;

describe('errorLine', () => {
  it("Python: the exception line, with where in the user's code it was raised", () => {
    expect(errorLine(PYTHON_SYNTAX_ERROR)).toBe("SyntaxError: expected ':' (train.py:41)");
    // The innermost frames are the standard library's: the user's own call is named.
    expect(errorLine(PYTHON_TRACEBACK)).toBe('json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1) (t2.py:4)');
  });

  it('CUDA out of memory: cut to 160 characters, the location kept whole', () => {
    const line = errorLine(CUDA_OOM) ?? '';
    expect(line.length).toBe(160);
    expect(line).toMatch(/^torch\.OutOfMemoryError: CUDA out of memory\. Tried to allocate 2\.00 GiB\. .*… \(model\.py:181\)$/);
  });

  it("node: the Error or SyntaxError line with the throw site; node's own throw site is not named", () => {
    expect(errorLine(NODE_ERROR)).toBe('Error: boom: shape mismatch (t.js:2)');
    expect(errorLine(NODE_SYNTAX_ERROR)).toBe("SyntaxError: Unexpected token ';' (s.js:1)");
    expect(errorLine(NODE_MODULE_NOT_FOUND)).toBe("Error [ERR_MODULE_NOT_FOUND]: Cannot find package 'nope' imported from /tmp/whylogs/m.mjs");
  });

  it("pytest: the first FAILED line of the short summary (the test's name and assertion)", () => {
    expect(errorLine(PYTEST)).toBe('FAILED test_x.py::test_add - assert -1 == 3');
  });

  it('bash and dash: command not found, even when more output follows', () => {
    expect(errorLine('start\n./eval.sh: line 3: pyhton: command not found\ncleaning up\n')).toBe('./eval.sh: line 3: pyhton: command not found');
    expect(errorLine('start\ne.sh: 3: pyhton: not found\n')).toBe('e.sh: 3: pyhton: not found');
  });

  it('otherwise the first line that says error/failed/fatal/panic near the end, not a warning', () => {
    const make = "gcc -O2 -o train train.c\ntrain.c:41:5: error: expected ';' before '}' token\nmake: *** [Makefile:2: train] Error 1\n";
    expect(errorLine(make)).toBe("train.c:41:5: error: expected ';' before '}' token");
    expect(errorLine("warning: unused variable 'x'\nthread 'main' panicked at src/main.rs:5:5:\nindex out of bounds\n")).toBe("thread 'main' panicked at src/main.rs:5:5:");
    // A metric that merely contains the word (train_error) is not an error.
    expect(errorLine('train_error 0.31\nval_error 0.35\nbad config: lr must be positive\n')).toBe('bad config: lr must be positive');
  });

  it('an early error line far from the end is not the cause: the last line is', () => {
    const log = `retrying download: connection failed\n${Array.from({ length: 40 }, (_, i) => `step ${i}`).join('\n')}\nstopping: budget exhausted\n`;
    expect(errorLine(log)).toBe('stopping: budget exhausted');
  });

  it('skips blank lines, progress bars and colours; null for a log with no text', () => {
    expect(errorLine('\x1b[31mERROR\x1b[0m: dataset missing\n\n100%|██████████| 10/10 [00:01<00:00]\n\n')).toBe('ERROR: dataset missing');
    expect(errorLine('')).toBeNull();
    expect(errorLine('\n  \n\r\n')).toBeNull();
  });
});

describe('lastLine and visibleLines', () => {
  it('a \\r-redrawn line is what was shown last; CRLF lines are kept', () => {
    expect(visibleLines('a\r\nb 10%\rb 20%\r\n\n')).toEqual(['a', 'b 20%']);
    expect(lastLine('step 811\nstep 812 loss 3.41\n50%|█████     | 5/10\n')).toBe('step 812 loss 3.41');
    expect(lastLine('')).toBeNull();
  });
});
