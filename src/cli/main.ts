#!/usr/bin/env -S node --max-semi-space-size=8
/**
 * (The shebang bounds V8's young generation: a long-running loop holds ~8 MB less than with
 * the default 16 MB. Not smaller: at 2 MB its scavenges cost the loop ~1 ms of CPU per
 * iteration, more than forks of a smaller process save; bench/loop-overhead.mjs.)
 *
 * The composition root: parses the command line, runs one command, and maps every error
 * to an exit code in one place (SPEC §8). Nothing else calls process.exit.
 */
import { takeEarlySignals } from './early-signals.js';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { checkProjectPath, findProjectRoot } from '../config/discover.js';
import { AutoresearchError, EXIT, errorMessage } from '../core/errors.js';
import { guardStandardStreams, writeTo } from './output-guard.js';
import { CONSOLE_LOG_FORMATS, setConsoleLogFormat, type ConsoleLogFormat } from '../log/console-format.js';
// Commands are imported when they run: `run` (and the daemon's children) never load the
// dashboard, report or daemon code — less start-up time and a smaller process.

const VERSION = '0.1.0';
const out = (text: string) => writeTo(process.stdout, text);

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, found \`${value}\``);
  return n;
}

function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('autoresearch')
    .description('Runs autonomous keep/discard/crash experiment loops, unattended.')
    .version(VERSION)
    .option('--path <dir>', 'project root (default: found from the current directory, like git)')
    .addOption(new Option('--log-format <format>', 'warnings on stderr: one plain line each (text) or JSON lines (json)').choices(CONSOLE_LOG_FORMATS).default('text'))
    .hook('preAction', (self: Command) => setConsoleLogFormat(self.opts<{ logFormat: ConsoleLogFormat }>().logFormat))
    .exitOverride()
    .configureOutput({ writeOut: (s) => writeTo(process.stdout, s), writeErr: (s) => writeTo(process.stderr, s) });
  // --path as given (it must exist); otherwise the nearest .autoresearch/ or git toplevel above the current directory.
  const root = () => {
    const given = program.opts<{ path?: string }>().path;
    return given === undefined ? findProjectRoot(process.cwd()) : checkProjectPath(given);
  };

  program
    .command('init')
    .description('write config.cfg, program.md and results.tsv for a new experiment')
    .argument('[id]', '<domain>/<name>')
    .option('--target <files>', 'file(s) the agent changes (comma-separated paths or globs)')
    .option('--eval <cmd>', 'evaluation command; prints the metric')
    .option('--metric <name>', "metric name (default with --evaluator: the evaluator's)")
    .option('--direction <lower|higher>', 'which direction is better (default lower)')
    .option('--time-budget <duration>', 'expected evaluation time, e.g. 5m')
    .option('--agent <agent>', 'claude, codex, gemini, none, or a shell command')
    .option('--evaluator <name>', 'copy a built-in evaluator (see --list-evaluators)')
    .option('--allow <paths>', 'paths the agent may change, comma-separated (config key scope; default the target)')
    .option('--location <project|user>', "where the experiment lives: the project's .autoresearch/ (default) or $AUTORESEARCH_HOME")
    .addOption(new Option('--scope <project|user>', 'deprecated name of --location').hideHelp())
    .option('--force', 'replace an existing experiment of this id (its results, runs and branch are kept aside)')
    .option('--list-evaluators', 'list the built-in evaluators and what each evaluation costs')
    .option('--no-baseline', 'do not run the evaluation once to show the baseline metric')
    .action(async (id: string | undefined, o) => {
      setExit(await (await import('./commands/init.js')).initCommand({ projectRoot: root(), id, listEvaluators: Boolean(o.listEvaluators), ...o, baseline: o.baseline !== false }, out));
    });

  program
    .command('run')
    .description('run one experiment in the foreground')
    .argument('[id]', '<domain>/<name>')
    .addOption(new Option('--single', 'run one iteration').conflicts('loop'))
    .addOption(new Option('--loop', 'iterate until done, tripped or stopped (default)'))
    .option('--max-experiments <n>', 'run at most n experiments (baseline not counted); replaces max_experiments for this run', positiveInt)
    .option('--dry-run', 'say what would happen; change nothing')
    .option('--resume', 'run the most recently active experiment')
    .action(async (id: string | undefined, o: { single?: boolean; maxExperiments?: number; dryRun?: boolean; resume?: boolean }) => {
      setExit(
        await (await import('./commands/run.js')).runCommand(
          {
            projectRoot: root(),
            id,
            resume: Boolean(o.resume),
            mode: o.single ? 'single' : 'loop',
            maxIterations: o.maxExperiments ?? null,
            dryRun: Boolean(o.dryRun),
            argv: process.argv.slice(2),
          },
          out,
        ),
      );
    });

  program
    .command('status')
    .description('every experiment and its state')
    .argument('[id]', '<domain>/<name>')
    .option('--status <state>', 'only experiments in this state (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--json', 'machine-readable')
    .action(async (id: string | undefined, o: { status: string[]; json?: boolean }) =>
      setExit(await (await import('./commands/status.js')).statusCommand({ projectRoot: root(), id, states: o.status, json: Boolean(o.json) }, out)),
    );

  program
    .command('logs')
    .description("the current (or last) iteration's agent and evaluation output; -f follows it across phases and iterations")
    .argument('<id>', '<domain>/<name>')
    .option('-f, --follow', 'keep printing new output, into the next iterations, until Ctrl-C')
    .action(async (id: string, o: { follow?: boolean }) =>
      setExit(await (await import('./commands/logs.js')).logsCommand({ projectRoot: root(), id, follow: Boolean(o.follow) }, out)),
    );

  program
    .command('results')
    .description('the ledger of one experiment, or one line per experiment (--domain, --all); --rebuild regenerates results.tsv')
    .argument('[id]', '<domain>/<name>')
    .option('--domain <domain>', 'one line per experiment of this domain')
    .option('--all', 'one line per experiment (the default without an id)')
    .option('--status <status>', "only this experiment's rows with this status: keep, discard or crash (repeatable)", (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--last <n>', 'only the last n rows (after --status)', positiveInt)
    .option('--format <format>', 'terminal, csv, markdown or json', 'terminal')
    .option('-o, --output <file>', 'write to this file (atomically) instead of stdout')
    .option('--rebuild', 'regenerate results.tsv from runs/*/result.json')
    .action(async (id: string | undefined, o: { domain?: string; all?: boolean; status: string[]; last?: number; format: string; output?: string; rebuild?: boolean }) => {
      // Colours only for a terminal that accepts them (https://no-color.org).
      const color = Boolean(process.stdout.isTTY) && !process.env.NO_COLOR && process.env.TERM !== 'dumb';
      const { terminalWidth } = await import('../ledger/export-formats.js');
      const opts = {
        projectRoot: root(),
        id,
        domain: o.domain,
        all: Boolean(o.all),
        format: o.format,
        output: o.output,
        rebuild: Boolean(o.rebuild),
        color,
        statuses: o.status,
        last: o.last,
        width: o.output === undefined ? terminalWidth(process.stdout) : 80,
      };
      setExit(await (await import('./commands/results.js')).resultsCommand(opts, out));
    });

  program
    .command('pause')
    .description('pause after the current iteration')
    .argument('<id>', '<domain>/<name>')
    .action(async (id: string) => setExit(await (await import('./commands/status.js')).pauseCommand({ projectRoot: root(), id }, out)));

  const daemon = program.command('daemon').description('the background service for every experiment under the root');
  daemon
    .command('start')
    .description('start the daemon (detached, unless --foreground)')
    .option('--foreground', 'stay in the foreground (for systemd, launchd)')
    .option('--concurrency <n>', 'experiments running at once', positiveInt, 4)
    .option('--slots <list>', 'evaluation slots, e.g. GPU indices 0,1,2,3 (default: one per --concurrency)', (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean))
    .action(async (o: { foreground?: boolean; concurrency: number; slots?: string[] }) =>
      setExit(await (await import('./commands/daemon.js')).daemonStart({ projectRoot: root(), foreground: Boolean(o.foreground), concurrency: o.concurrency, slots: o.slots }, out)),
    );
  daemon.command('stop').description('stop gracefully and wait').action(async () => setExit(await (await import('./commands/daemon.js')).daemonStop(root(), out)));
  daemon
    .command('status')
    .description('the daemon and its experiments (exit 3 when no daemon runs)')
    .option('--json', 'machine-readable')
    .action(async (o: { json?: boolean }) => setExit(await (await import('./commands/daemon.js')).daemonStatus(root(), Boolean(o.json), out)));
  daemon
    .command('logs')
    .description("the daemon's log")
    .option('-f, --follow', 'keep printing new lines')
    .action(async (o: { follow?: boolean }) => setExit(await (await import('./commands/daemon.js')).daemonLogs(root(), Boolean(o.follow), out)));
  daemon.command('reload').description('rescan configs (SIGHUP)').action(async () => setExit(await (await import('./commands/daemon.js')).daemonReload(root(), out)));
  daemon
    .command('install')
    .description('write a systemd user unit or a launchd agent that runs the daemon')
    .addOption(new Option('--systemd', 'a systemd user unit').conflicts('launchd'))
    .addOption(new Option('--launchd', 'a launchd agent (macOS)'))
    .option('--concurrency <n>', 'experiments running at once, passed to the service\'s `daemon start` (default 4)', positiveInt)
    .option('--slots <list>', 'evaluation slots, passed to the service\'s `daemon start`', (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean))
    .option('--print', 'print it; write nothing')
    .option('--force', 'replace an existing, different file')
    .action(async (o: { systemd?: boolean; launchd?: boolean; print?: boolean; force?: boolean; concurrency?: number; slots?: string[] }) => {
      const kind = o.launchd ? 'launchd' : o.systemd ? 'systemd' : process.platform === 'darwin' ? 'launchd' : 'systemd';
      const daemonArgs = [...(o.concurrency === undefined ? [] : ['--concurrency', String(o.concurrency)]), ...(o.slots === undefined ? [] : ['--slots', o.slots.join(',')])];
      setExit(await (await import('./commands/daemon.js')).daemonInstall({ projectRoot: root(), kind, print: Boolean(o.print), force: Boolean(o.force), daemonArgs }, out));
    });

  program
    .command('dashboard')
    .description('write a self-contained HTML page with every experiment\'s progress (the daemon serves it live), or the progress chart as an image')
    .argument('[ids...]', 'for --svg/--png: only these experiments (<domain>/<name>)')
    .option('--out <file>', 'where to write the page (default .autoresearch/dashboard.html)')
    .option('--svg <file>', 'write the progress chart as an SVG image (no browser needed); no page unless --out')
    .option('--png <file>', 'write the progress chart as a PNG image (needs chromium or google-chrome on PATH); no page unless --out')
    .action(async (ids: string[], o: { out?: string; svg?: string; png?: string }) =>
      setExit(await (await import('./commands/dashboard.js')).dashboardCommand({ projectRoot: root(), out: o.out, svg: o.svg, png: o.png, ids }, out)));

  program
    .command('rerun')
    .description('re-evaluate selected past candidates without the agent')
    .argument('<id>', '<domain>/<name>')
    .option('--status <status>', 'rows with this status: crash, discard or keep (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--iterations <list>', 'these iterations, e.g. 3,7-9')
    .option('--dry-run', 'list what would be re-evaluated; change nothing')
    .action(async (id: string, o: { status: string[]; iterations?: string; dryRun?: boolean }) =>
      setExit(await (await import('./commands/rerun.js')).rerunCommand({ projectRoot: root(), id, statuses: o.status, iterations: o.iterations, dryRun: Boolean(o.dryRun) }, out)),
    );

  program
    .command('reset')
    .description('make an earlier keep the best again (a new row records it; the undone keeps stay under refs/autoresearch/)')
    .argument('<id>', '<domain>/<name>')
    .requiredOption('--to <iteration>', 'the iteration of a keep (baseline or improved)')
    .action(async (id: string, o: { to: string }) => setExit(await (await import('./commands/reset.js')).resetCommand({ projectRoot: root(), id, to: o.to }, out)));

  program
    .command('rebase')
    .description("move the experiment onto the project's current HEAD (its keeps carried over) and measure the baseline there")
    .argument('<id>', '<domain>/<name>')
    .option('--onto-head-only', 'drop the keeps: start again from HEAD itself')
    .action(async (id: string, o: { ontoHeadOnly?: boolean }) =>
      setExit(await (await import('./commands/rebase.js')).rebaseCommand({ projectRoot: root(), id, ontoHeadOnly: Boolean(o.ontoHeadOnly) }, out)),
    );

  program
    .command('resume')
    .description('clear tripped, paused or blocked')
    .argument('<id>', '<domain>/<name>')
    .action(async (id: string) => setExit(await (await import('./commands/resume.js')).resumeCommand({ projectRoot: root(), id }, out)));

  program
    .command('report')
    .description('failure triage and a summary of what worked, written as Markdown files')
    .argument('<id>', '<domain>/<name>')
    .option('--out <dir>', 'where to write README.md and failures/ (default: <experiment dir>/report)')
    .action(async (id: string, o: { out?: string }) => setExit(await (await import('./commands/report.js')).reportCommand({ projectRoot: root(), id, out: o.out }, out)));

  return program;
}

async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const program = buildProgram((code) => (exitCode = code));
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were already printed.
      return error.exitCode === 0 ? EXIT.ok : EXIT.error;
    }
    if (error instanceof AutoresearchError) {
      process.stderr.write(`autoresearch: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(
      `autoresearch: internal error (this is a bug; please report it with this output): ${errorMessage(error)}\n` +
        `${error instanceof Error ? error.stack : ''}\nautoresearch ${VERSION}, node ${process.version}, ${process.platform}\n`,
    );
    return EXIT.error;
  }
}

guardStandardStreams(); // a closed stdout/stderr (EPIPE) never stops a command
process.exitCode = await main(process.argv);
takeEarlySignals(); // a command that installed no handlers of its own: nothing more to hand over
