/**
 * Free loopback ports for the servers the harness starts.
 *
 * @module
 */

/** Ports this process handed out: the kernel may offer a closed one again at once. */
const handedOut = new Set<number>();

/**
 * A TCP port on 127.0.0.1 that was free a moment ago, and not handed out
 * before by this process (a cluster takes 12 at once: two alike would collide).
 */
export function freePort(): number {
  for (let attempt = 0;; attempt++) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    if (!handedOut.has(port) || attempt >= 20) {
      handedOut.add(port);
      return port;
    }
  }
}

/** Waits until something accepts TCP connections on `port`, or throws after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      conn.close();
      return;
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`, {
          cause: error,
        });
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
