#!/usr/bin/env node
/**
 * The composition root: parses the command line, runs one command, and maps every error
 * to an exit code in one place (SPEC §8). Nothing else calls process.exit.
 */
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { AutoresearchError, EXIT, errorMessage } from '../core/errors.js';
import { initCommand } from './commands/init.js';
import { resumeCommand } from './commands/resume.js';
import { runCommand } from './commands/run.js';

const VERSION = '0.1.0';
const out = (text: string) => process.stdout.write(text);

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, found \`${value}\``);
  return n;
}

function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('autoresearch')
    .description('Runs autonomous keep/discard/crash experiment loops, unattended.')
    .version(VERSION)
    .option('--path <dir>', 'project root', process.cwd())
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const root = () => path.resolve(program.opts<{ path: string }>().path);

  program
    .command('init')
    .description('write config.cfg, program.md and results.tsv for a new experiment')
    .argument('[id]', '<domain>/<name>')
    .option('--target <files>', 'file(s) the agent changes (comma-separated paths or globs)')
    .option('--eval <cmd>', 'evaluation command; prints the metric')
    .option('--metric <name>', 'metric name')
    .option('--direction <lower|higher>', 'which direction is better (default lower)')
    .option('--time-budget <duration>', 'expected evaluation time, e.g. 5m')
    .option('--agent <agent>', 'claude, codex, gemini, none, or a shell command')
    .option('--evaluator <name>', 'copy a built-in evaluator (see --list-evaluators)')
    .option('--scope <project|user>', 'where the experiment lives (default project)')
    .option('--list-evaluators', 'list the built-in evaluators')
    .action(async (id: string | undefined, o) => {
      setExit(await initCommand({ projectRoot: root(), id, listEvaluators: Boolean(o.listEvaluators), ...o }, out));
    });

  program
    .command('run')
    .description('run one experiment in the foreground')
    .argument('[id]', '<domain>/<name>')
    .addOption(new Option('--single', 'run one iteration').conflicts('loop'))
    .addOption(new Option('--loop', 'iterate until done, tripped or stopped (default)'))
    .option('--max-experiments <n>', 'stop after n iterations in this run', positiveInt)
    .option('--dry-run', 'say what would happen; change nothing')
    .option('--resume', 'run the most recently active experiment')
    .action(async (id: string | undefined, o: { single?: boolean; maxExperiments?: number; dryRun?: boolean; resume?: boolean }) => {
      setExit(
        await runCommand(
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
    .command('resume')
    .description('clear tripped, paused or blocked')
    .argument('<id>', '<domain>/<name>')
    .action(async (id: string) => setExit(await resumeCommand({ projectRoot: root(), id }, out)));

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

process.exitCode = await main(process.argv);
