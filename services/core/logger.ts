import pino, { type Logger } from "pino";

export type { Logger };

/** Structured JSON logs (pino); level from LOG_LEVEL (default info), silent under tests unless asked. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? (process.env.VITEST ? "silent" : "info")): Logger {
  return pino({ name: service, level, base: { service }, timestamp: pino.stdTimeFunctions.isoTime });
}
