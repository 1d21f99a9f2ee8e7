import { readFileSync } from 'node:fs';

/**
 * Issue 16 item 12: slow and idle connections are closed, and the number of connections stays below the
 * process's file-descriptor limit, so a slowloris or a crowd of idle sockets cannot starve `/health` and commands.
 */
export interface ConnectionLimits {
  /** The whole request, headers and body, must arrive within this (Node `requestTimeout`; 408, then closed). */
  readonly requestTimeoutMs: number;
  /** The request line and headers must arrive within this (Node `headersTimeout`: slowloris). */
  readonly headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (Node `keepAliveTimeout`). */
  readonly keepAliveTimeoutMs: number;
  /** Connections beyond this are closed as soon as they are accepted (Node `maxConnections`). */
  readonly maxConnections: number;
}

/**
 * Defaults. 300 s for a request lets a 64 MiB import (IMPORT_BODY_LIMIT) through a 2 Mbit/s link (≈ 270 s);
 * 10 s for headers is far beyond any honest client; 10 000 connections stay below the usual `ulimit -n` of
 * 65 536 with room for the stores' files.
 */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  requestTimeoutMs: 300_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 10_000,
  maxConnections: 10_000,
};

/** Descriptors kept for everything that is not a client connection: SQLite, chDB, log files, sinks. */
export const RESERVED_DESCRIPTORS = 256;

/** The Node `http.createServer` options these limits need at construction. */
export function serverOptions(limits: ConnectionLimits): { connectionsCheckingInterval: number; headersTimeout: number; requestTimeout: number; keepAliveTimeout: number } {
  return {
    // Node checks header/request deadlines every `connectionsCheckingInterval` (default 30 s): a slowloris would
    // live up to 30 s past the headers timeout. A quarter of it, within [50 ms, 1 s], keeps the check cheap.
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
  };
}

/** The soft `Max open files` limit of this process (`ulimit -n`), or undefined where /proc is not there. */
export function descriptorLimit(limitsFile = '/proc/self/limits'): number | undefined {
  let text: string;
  try {
    text = readFileSync(limitsFile, 'utf8');
  } catch {
    return undefined; // not Linux: the operator keeps HTTP_MAX_CONNECTIONS below `ulimit -n` (docs/api.md)
  }
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(text);
  if (!match || match[1] === 'unlimited') return undefined;
  return Number(match[1]);
}

/** `maxConnections` lowered, if need be, to leave RESERVED_DESCRIPTORS of the descriptor limit free. */
export function connectionCap(configured: number, fdLimit: number | undefined): number {
  if (fdLimit === undefined) return configured;
  return Math.max(1, Math.min(configured, fdLimit - RESERVED_DESCRIPTORS));
}
