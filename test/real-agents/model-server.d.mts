/** Types for model-server.mjs (plain JS so it also runs standalone: `node model-server.mjs`). */
export type Scenario = 'edit' | 'denied' | 'quota' | 'ratelimit' | 'billing' | 'overload' | 'e500';
export const SCENARIOS: readonly Scenario[];

export interface LoggedRequest {
  scenario: string;
  method: string;
  path: string;
  api: 'anthropic' | 'openai' | 'gemini' | 'other';
  digest: string;
  summary: string;
  status: number;
  /** Epoch ms when the request arrived. */
  at: number;
}

export interface ModelServer {
  port: number;
  /** Epoch seconds when the scripted quota window resets. */
  resetAt: number;
  baseUrl(scenario: string): string;
  log: LoggedRequest[];
  /** Scripts a scenario that is not built in: its shell command, and the quota error for requests whose body contains a text. */
  script(scenario: string, script: { command?: string; quotaWhenBodyIncludes?: string }): void;
  requests(scenario?: string): LoggedRequest[];
  close(): Promise<void>;
}

export function startModelServer(options?: { editCommand?: string; deniedCommand?: string; finalText?: string; resetAt?: number }): Promise<ModelServer>;
