import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';

/**
 * Slow and idle connections are closed, and the number of connections stays below the
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
  /** Requests one connection may have unanswered at once (pipelined) before it is closed; default DEFAULT_MAX_PIPELINED. */
  readonly maxPipelined?: number;
}

/**
 * Defaults. 300 s for a request lets a 64 MiB import (IMPORT_BODY_LIMIT) through a 2 Mbit/s link (≈ 270 s);
 * 10 s for headers is far beyond any honest client; 65 s keep-alive outlives the usual 60 s idle timeout of a load
 * balancer in front (else it may reuse a connection the server is closing: 502s); 10 000 connections stay below
 * the usual `ulimit -n` of 65 536 with room for the stores' files.
 */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  requestTimeoutMs: 300_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 65_000,
  maxConnections: 10_000,
};

/** Descriptors kept for everything that is not a client connection: SQLite, chDB, log files, sinks. */
export const RESERVED_DESCRIPTORS = 256;

/** The Node `http.createServer` options these limits need at construction. */
export function serverOptions(limits: ConnectionLimits): {
  connectionsCheckingInterval: number;
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
} {
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

/** Default for HTTP_MAX_PIPELINED: far above what a browser or an HTTP client library pipelines (none, mostly). */
export const DEFAULT_MAX_PIPELINED = 32;

/**
 * A client may pipeline requests, and Node answers them in order, holding every answer not yet
 * written; a client that sends thousands and reads none makes the server hold thousands of answers. Requests are
 * counted per connection from arrival to the end of their answer; past `maxPipelined` the connection is destroyed
 * (nothing it sent after that is handled).
 */
export function installPipeliningBound(fastify: FastifyInstance, maxPipelined: number): void {
  const inFlight = new WeakMap<object, number>();
  fastify.addHook('onRequest', (request, _reply, done) => {
    const socket = request.raw.socket;
    const n = (inFlight.get(socket) ?? 0) + 1;
    inFlight.set(socket, n);
    if (n > maxPipelined) {
      socket.destroy();
      return; // the request is dropped with its connection: no answer to write
    }
    done();
  });
  // A request whose client went away needs no decrement: its connection, and the count with it, is gone.
  fastify.addHook('onResponse', (request, _reply, done) => {
    const socket = request.raw.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 1) - 1);
    done();
  });
}
