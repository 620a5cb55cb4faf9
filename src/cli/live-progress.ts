/**
 * Progress of a long step (an evaluation, an agent turn, a quota wait) while it runs: on a
 * terminal one live line, redrawn every second; elsewhere (a pipe, a log, CI) a plain line
 * every minute, so a log shows the run is alive without flooding it.
 */
import { localDateTime } from '../core/local-time.js';

export interface ProgressLimits {
  budgetMs?: number; // expected duration (time_budget)
  limitMs?: number; // hard limit (eval_timeout / agent_timeout)
  untilMs?: number; // a wall-clock end (quota reset)
}

export class LiveProgress {
  private timer: NodeJS.Timeout | undefined;
  private label = '';
  private started = 0;
  private limits: ProgressLimits = {};
  private shown = false;
  private lastPlain = 0;

  constructor(
    private readonly write: (text: string) => void,
    private readonly tty: boolean,
    private readonly now: () => number = Date.now,
    private readonly plainEveryMs = 60_000,
  ) {}

  start(label: string, limits: ProgressLimits): void {
    this.stop();
    this.label = label;
    this.started = this.now();
    this.lastPlain = this.started;
    this.limits = limits;
    this.timer = setInterval(() => this.tick(), this.tty ? 1000 : Math.min(this.plainEveryMs, 1000));
    this.timer.unref(); // progress never keeps the process alive
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  /** Erase the live line before a normal line is printed (it is redrawn on the next tick). */
  clear(): void {
    if (this.shown) this.write('\r\x1b[2K');
    this.shown = false;
  }

  tick(): void {
    const now = this.now();
    const text = this.describe(now);
    if (this.tty) {
      this.write(`\r\x1b[2K${text}`);
      this.shown = true;
    } else if (now - this.lastPlain >= this.plainEveryMs) {
      this.lastPlain = now;
      this.write(`${text}\n`);
    }
  }

  describe(now: number): string {
    const elapsed = now - this.started;
    const parts = [`  ${this.label}: ${duration(elapsed)} elapsed`];
    const { budgetMs, limitMs, untilMs } = this.limits;
    if (budgetMs !== undefined) parts.push(elapsed <= budgetMs ? `${duration(budgetMs - elapsed)} left of the ${duration(budgetMs)} budget` : `${duration(elapsed - budgetMs)} over the budget`);
    if (limitMs !== undefined) parts.push(`killed in ${duration(Math.max(0, limitMs - elapsed))}`);
    if (untilMs !== undefined) parts.push(`${duration(Math.max(0, untilMs - now))} left (until ${localDateTime(untilMs, { seconds: true })})`);
    return parts.join(', ');
  }
}

export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}
