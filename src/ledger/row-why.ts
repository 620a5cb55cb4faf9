/**
 * Why a row has its status, in words for a person: the row's `detail` when it has one (it
 * starts with the reason code: `eval_exit 1: SyntaxError: …`), the reason code joined to a
 * detail that does not (`improved: suspicious: …`), or the bare reason code (older rows).
 */
import type { LedgerRow } from './types.js';

export function rowWhy(row: Pick<LedgerRow, 'reason' | 'detail'>): string {
  const reason = row.reason ?? '';
  const detail = (row.detail ?? '').trim();
  if (detail === '') return reason;
  if (reason === '' || detail === reason || detail.startsWith(`${reason} `) || detail.startsWith(`${reason}:`)) return detail;
  return `${reason}: ${detail}`;
}
