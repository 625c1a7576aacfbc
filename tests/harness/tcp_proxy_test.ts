import assert from "node:assert/strict";
import { startTcpProxy } from "./tcp_proxy.ts";

/** A server that sends `size` bytes to each client, then waits for the client to close. */
function startSender(size: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    for await (const conn of listener) {
      (async () => {
        try {
          await conn.write(new Uint8Array(size).fill(7));
          await conn.read(new Uint8Array(16));
        } catch { /* closed */ }
        try {
          conn.close();
        } catch { /* closed */ }
      })();
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      await served;
    },
  };
}

/** Reads until EOF or until nothing arrives for `quietMs`; returns bytes and how it ended. */
async function drain(port: number, quietMs = 300) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buffer = new Uint8Array(64 * 1024);
  let bytes = 0;
  let ended: "eof" | "quiet" = "quiet";
  while (true) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const quiet = new Promise<"quiet">((r) => (timer = setTimeout(() => r("quiet"), quietMs)));
    const n = await Promise.race([conn.read(buffer).catch(() => null), quiet]);
    clearTimeout(timer);
    if (n === "quiet") break;
    if (n === null) {
      ended = "eof";
      break;
    }
    bytes += n;
  }
  conn.close();
  return { bytes, ended };
}

Deno.test("tcp proxy forwards, drops after a seeded budget, stalls with the socket open", async () => {
  const server = startSender(200_000);
  await using proxy = await startTcpProxy({ targetPort: server.port });
  try {
    assert.deepEqual(await drain(proxy.port), { bytes: 200_000, ended: "quiet" });

    proxy.setMode({ kind: "drop", minBytes: 1_000, maxBytes: 50_000, seed: 7 });
    const first = await drain(proxy.port);
    assert.equal(first.ended, "eof", "a dropped connection is closed");
    assert.ok(first.bytes >= 1_000 && first.bytes <= 50_000, `${first.bytes} bytes`);
    proxy.setMode({ kind: "drop", minBytes: 1_000, maxBytes: 50_000, seed: 7 });
    assert.equal((await drain(proxy.port)).bytes, first.bytes, "the same seed, the same budget");
    assert.equal(proxy.stats.dropped, 2);

    proxy.setMode({ kind: "stall", afterBytes: 10_000 });
    assert.deepEqual(await drain(proxy.port), { bytes: 10_000, ended: "quiet" });
    assert.equal(proxy.stats.stalled, 1);

    proxy.setMode({ kind: "blackhole" });
    assert.deepEqual(await drain(proxy.port), { bytes: 0, ended: "quiet" });
    assert.equal(proxy.stats.accepted, 5);
  } finally {
    await proxy.close();
    await server.close();
  }
});
