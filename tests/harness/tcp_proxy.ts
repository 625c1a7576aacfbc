/**
 * A loopback TCP proxy for fault injection: sits between a client (the
 * producer) and a server (Dovecot) and, as told at run time, forwards
 * faithfully, drops each connection after a random number of bytes, stalls
 * connections (stops forwarding with both sockets left open, as a dead NAT
 * entry or a hung server does), or black-holes new connections (accepts
 * them and forwards nothing). Random choices come from a seed, so a run can
 * be repeated.
 *
 * @example
 * ```ts
 * await using proxy = await startTcpProxy({ targetPort: dovecot.port });
 * proxy.setMode({ kind: "drop", minBytes: 20_000, maxBytes: 500_000, seed: 1 });
 * // point the client at proxy.port ...
 * proxy.stallOpen(); // freeze every open connection now
 * ```
 *
 * @module
 */

/** What the proxy does with connections accepted from now on. */
export type ProxyMode =
  /** Forward everything. */
  | { readonly kind: "pass" }
  /** Close each connection after a random `minBytes..maxBytes` (both directions counted). */
  | { readonly kind: "drop"; readonly minBytes: number; readonly maxBytes: number; seed: number }
  /** Stop forwarding on each connection after `afterBytes`, leaving its sockets open. */
  | { readonly kind: "stall"; readonly afterBytes: number }
  /** Accept, never connect to the target, forward nothing. */
  | { readonly kind: "blackhole" };

/** Options of {@link startTcpProxy}. */
export interface TcpProxyOptions {
  /** Port of the server on 127.0.0.1. */
  readonly targetPort: number;
  /** The mode at start. Default pass. */
  readonly mode?: ProxyMode;
}

/** Counters of what the proxy did. */
export interface TcpProxyStats {
  /** Connections accepted. */
  accepted: number;
  /** Connections the proxy closed because their byte budget ran out. */
  dropped: number;
  /** Connections that stopped forwarding (stall mode or {@link TcpProxy.stallOpen}). */
  stalled: number;
  /** Bytes forwarded, both directions. */
  bytes: number;
  /** `performance.now()` of the first stall, or `undefined`. */
  firstStallAt: number | undefined;
  /** `performance.now()` of each accepted connection, in order. */
  acceptedAt: number[];
}

/** A running proxy. */
export interface TcpProxy extends AsyncDisposable {
  /** The port clients connect to (127.0.0.1). */
  readonly port: number;
  /** Live counters. */
  readonly stats: TcpProxyStats;
  /** Changes what happens to connections accepted from now on. */
  setMode(mode: ProxyMode): void;
  /** Stops forwarding on every open connection at once (their sockets stay open). */
  stallOpen(): void;
  /** Connections currently open. */
  openConnections(): number;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** mulberry32: a small seeded generator, good enough to pick byte budgets. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One proxied connection. */
class Link {
  stalled = false;
  closed = false;
  used = 0;
  server: Deno.Conn | undefined;

  constructor(readonly client: Deno.Conn, readonly budget: number, readonly stallAt: number) {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const conn of [this.client, this.server]) {
      try {
        conn?.close();
      } catch { /* already closed */ }
    }
  }
}

/** Starts the proxy on an ephemeral 127.0.0.1 port. */
export function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  let mode: ProxyMode = options.mode ?? { kind: "pass" };
  let random = seededRandom(0);
  const links = new Set<Link>();
  const stats: TcpProxyStats = {
    accepted: 0,
    dropped: 0,
    stalled: 0,
    bytes: 0,
    firstStallAt: undefined,
    acceptedAt: [],
  };
  const pumps = new Set<Promise<void>>();

  function stall(link: Link): void {
    if (link.stalled) return;
    link.stalled = true;
    stats.stalled++;
    stats.firstStallAt ??= performance.now();
  }

  /** Copies `from` to `to` under the link's budget and stall point. */
  async function pump(link: Link, from: Deno.Conn, to: Deno.Conn): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (!link.closed) {
        const n = await from.read(buffer);
        if (n === null) break;
        // A stalled link forwards nothing, ever; reading on (and discarding) notices the
        // peer closing, so a client that gives up on it frees the link.
        if (link.stalled) continue;
        let allowed = n;
        const limit = Math.min(link.budget, link.stallAt);
        if (link.used + allowed > limit) allowed = Math.max(0, limit - link.used);
        link.used += allowed;
        stats.bytes += allowed;
        if (allowed > 0) await writeAll(to, buffer.subarray(0, allowed));
        if (allowed < n) {
          if (link.used >= link.budget) {
            stats.dropped++;
            break;
          }
          stall(link);
        }
      }
    } catch {
      // a reset or a closed socket ends the link
    }
    link.close();
  }

  async function accept(client: Deno.Conn): Promise<void> {
    stats.accepted++;
    stats.acceptedAt.push(performance.now());
    const current = mode;
    const budget = current.kind === "drop"
      ? Math.floor(current.minBytes + random() * (current.maxBytes - current.minBytes + 1))
      : Infinity;
    const stallAt = current.kind === "stall" ? current.afterBytes : Infinity;
    const link = new Link(client, budget, stallAt);
    links.add(link);
    try {
      if (current.kind === "blackhole") {
        stall(link);
        // Hold the socket open, read and discard until the client gives up.
        const sink = new Uint8Array(16 * 1024);
        while ((await client.read(sink).catch(() => null)) !== null) { /* discard */ }
        return;
      }
      link.server = await Deno.connect({ hostname: "127.0.0.1", port: options.targetPort });
      await Promise.all([pump(link, client, link.server), pump(link, link.server, client)]);
    } catch {
      // target down: the client sees the connection close
    } finally {
      link.close();
      links.delete(link);
    }
  }

  const serving = (async () => {
    try {
      for await (const client of listener) {
        const pumped = accept(client);
        pumps.add(pumped);
        pumped.finally(() => pumps.delete(pumped));
      }
    } catch {
      // listener closed
    }
  })();

  async function close(): Promise<void> {
    try {
      listener.close();
    } catch { /* already closed */ }
    for (const link of links) link.close();
    await serving;
    await Promise.allSettled([...pumps]);
  }

  return Promise.resolve({
    port,
    stats,
    setMode(next: ProxyMode): void {
      mode = next;
      if (next.kind === "drop") random = seededRandom(next.seed);
    },
    stallOpen(): void {
      for (const link of links) stall(link);
    },
    openConnections: () => links.size,
    close,
    [Symbol.asyncDispose]: close,
  });
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.length) written += await conn.write(data.subarray(written));
}
