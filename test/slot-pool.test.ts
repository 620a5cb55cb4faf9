import { describe, expect, it } from 'vitest';
import { SlotPool } from '../src/core/slot-pool.js';

describe('SlotPool', () => {
  it('never hands one slot to two holders, and serves waiters first come, first served', async () => {
    const pool = new SlotPool(['0', '1']);
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect([a?.slot, b?.slot].sort()).toEqual(['0', '1']);
    const order: string[] = [];
    const c = pool.acquire().then((l) => (order.push('c'), l));
    const d = pool.acquire().then((l) => (order.push('d'), l));
    expect(pool.waiting).toBe(2);
    a?.release();
    a?.release(); // idempotent: must not free the slot twice
    const leaseC = await c;
    expect(leaseC?.slot).toBe(a?.slot);
    expect(order).toEqual(['c']);
    b?.release();
    expect((await d)?.slot).toBe(b?.slot);
    expect(order).toEqual(['c', 'd']);
  });

  it('lets a waiter give up through its AbortSignal', async () => {
    const pool = new SlotPool([1]);
    const held = await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    controller.abort();
    expect(await waiting).toBeNull();
    expect(pool.waiting).toBe(0);
    held?.release();
    expect((await pool.acquire())?.slot).toBe(1);
  });
});
