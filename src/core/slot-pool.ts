/**
 * A fixed set of named slots handed out first come, first served. Used for evaluation
 * slots (a GPU index each: a slot is never given to two evaluations at once) and for the
 * daemon's concurrency permits. FIFO so that no waiter starves; a waiter can give up
 * through its AbortSignal.
 */
export interface Lease<T> {
  slot: T;
  release(): void; // idempotent
}

export class SlotPool<T> {
  private readonly free: T[];
  private readonly waiters: Array<{ grant: (lease: Lease<T>) => void; signal: AbortSignal | undefined; onAbort: () => void }> = [];
  private inUse = 0;

  constructor(slots: readonly T[]) {
    if (slots.length === 0) throw new RangeError('SlotPool: expected at least one slot, found none');
    this.free = [...slots];
  }

  get size(): number {
    return this.free.length + this.inUse;
  }

  /** Resolves with a lease when a slot is free; null if `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<Lease<T> | null> {
    if (signal?.aborted) return Promise.resolve(null);
    const slot = this.free.shift();
    if (slot !== undefined) return Promise.resolve(this.lease(slot));
    return new Promise((resolve) => {
      const waiter = {
        grant: (lease: Lease<T>) => resolve(lease),
        signal,
        onAbort: () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          resolve(null);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** How many are waiting: a holder may yield its slot when someone is. */
  get waiting(): number {
    return this.waiters.length;
  }

  private lease(slot: T): Lease<T> {
    this.inUse++;
    let released = false;
    return {
      slot,
      release: () => {
        if (released) return;
        released = true;
        this.inUse--;
        const next = this.waiters.shift();
        if (next === undefined) {
          this.free.push(slot);
          return;
        }
        next.signal?.removeEventListener('abort', next.onAbort);
        next.grant(this.lease(slot));
      },
    };
  }
}

/** The daemon's evaluation slots when `--slots` is not given: one per --concurrency, named for no resource. */
export function defaultSlotNames(concurrency: number): string[] {
  return Array.from({ length: concurrency }, (_, i) => `slot-${i + 1}`);
}

/** Whether `slots` are the defaults (then no slot stands for a dedicated CPU set or GPU). */
export function areDefaultSlotNames(slots: readonly string[]): boolean {
  return slots.every((slot, i) => slot === `slot-${i + 1}`);
}
