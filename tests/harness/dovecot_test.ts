import assert from "node:assert/strict";
import { ImapFlow } from "imapflow";
import { startDovecot } from "./dovecot.ts";
import {
  largeMessage,
  malformedMessage,
  REALISTIC_KINDS,
  realisticKind,
  realisticMessage,
  realisticMessageId,
} from "./mail.ts";

const USER = "alice@example.test";

async function messageCount(imap: ImapFlow, path: string): Promise<number | undefined> {
  const status = await imap.status(path, { messages: true });
  return status ? status.messages : undefined;
}

Deno.test("startDovecot() accepts a password login and rejects a wrong password", async () => {
  await using dovecot = await startDovecot();
  const imap = await dovecot.client(USER);
  assert.ok(imap.authenticated);
  assert.ok(imap.capabilities.has("IDLE"));
  await imap.logout();

  const wrong = new ImapFlow({
    host: dovecot.host,
    port: dovecot.port,
    secure: false,
    auth: { user: USER, pass: "wrong" },
    logger: false,
  });
  await assert.rejects(wrong.connect());
});

Deno.test("append() returns the UID that UID SEARCH then finds", async () => {
  await using dovecot = await startDovecot();
  const first = await dovecot.append(USER, "INBOX", await realisticMessage(0));
  const second = await dovecot.append(USER, "INBOX", await realisticMessage(1), {
    flags: ["\\Seen"],
    internalDate: new Date("2024-02-03T04:05:06Z"),
  });
  assert.equal(second.uid, first.uid + 1);
  assert.equal(second.uidValidity, first.uidValidity);

  const imap = await dovecot.client(USER);
  try {
    const lock = await imap.getMailboxLock("INBOX");
    try {
      const found = await imap.search({ header: { "message-id": realisticMessageId(1) } }, {
        uid: true,
      });
      assert.deepEqual(found, [second.uid]);
      const seen = await imap.search({ seen: true }, { uid: true });
      assert.deepEqual(seen, [second.uid]);
    } finally {
      lock.release();
    }
  } finally {
    await imap.logout();
  }
});

Deno.test("a recreated mailbox gets a new UIDVALIDITY", async () => {
  await using dovecot = await startDovecot();
  await dovecot.createMailbox(USER, "Archive/2024");
  const before = await dovecot.append(USER, "Archive/2024", await realisticMessage(2));
  await dovecot.deleteMailbox(USER, "Archive/2024");
  await dovecot.createMailbox(USER, "Archive/2024");
  const after = await dovecot.append(USER, "Archive/2024", await realisticMessage(3));
  assert.notEqual(after.uidValidity, before.uidValidity);
  assert.equal(after.uid, 1);
});

Deno.test("stop() refuses connections and start() serves the same mail on the same port", async () => {
  await using dovecot = await startDovecot();
  const { uid } = await dovecot.append(USER, "INBOX", await realisticMessage(4));
  await dovecot.stop();
  await assert.rejects(Deno.connect({ hostname: dovecot.host, port: dovecot.port }));
  await dovecot.start();
  const imap = await dovecot.client(USER);
  try {
    const status = await imap.status("INBOX", { messages: true, uidNext: true });
    assert.ok(status);
    assert.equal(status.messages, 1);
    assert.equal(status.uidNext, uid + 1);
  } finally {
    await imap.logout();
  }
});

Deno.test("seedMaildir() makes 200 messages visible to STATUS", async () => {
  await using dovecot = await startDovecot();
  async function* messages(): AsyncGenerator<Uint8Array> {
    for (let i = 0; i < 200; i++) yield await realisticMessage(i, { attachmentBytes: 1024 });
  }
  assert.equal(await dovecot.seedMaildir(USER, "INBOX", messages()), 200);
  assert.equal(await dovecot.seedMaildir(USER, "Bulk/Old", [malformedMessage(0)]), 1);
  const imap = await dovecot.client(USER);
  try {
    assert.equal(await messageCount(imap, "INBOX"), 200);
    assert.equal(await messageCount(imap, "Bulk/Old"), 1);
  } finally {
    await imap.logout();
  }
});

Deno.test("an IDLE client hears about a message appended by another connection", async () => {
  await using dovecot = await startDovecot();
  const imap = await dovecot.client(USER);
  try {
    await imap.mailboxOpen("INBOX");
    const heard = new Promise<number>((resolve) => {
      imap.on("exists", (event: { count: number }) => resolve(event.count));
    });
    const idling = imap.idle();
    await dovecot.append(USER, "INBOX", await realisticMessage(6));
    assert.equal(await heard, 1);
    await imap.logout();
    await idling.catch(() => {});
  } finally {
    imap.close();
  }
});

Deno.test("dispose removes the server directory and stops the server", async () => {
  let dir = "";
  let port = 0;
  {
    await using dovecot = await startDovecot();
    dir = dovecot.dir;
    port = dovecot.port;
  }
  await assert.rejects(Deno.stat(dir), Deno.errors.NotFound);
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port }));
});

/** A fake introspection endpoint: token "good-<email>" is active for <email>. */
function startIntrospection(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const token = new URL(request.url).searchParams.get("access_token") ?? "";
    if (token.startsWith("good-")) {
      return Response.json({ email: token.slice("good-".length), active: true });
    }
    return Response.json({ error: "invalid_token" }, { status: 401 });
  });
}

/**
 * Sends one raw IMAP AUTHENTICATE XOAUTH2 (imapflow would pick OAUTHBEARER)
 * and returns the tagged reply line.
 */
async function xoauth2Login(port: number, user: string, token: string): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let buffer = "";
  /** The next complete line. */
  async function nextLine(): Promise<string> {
    while (!buffer.includes("\r\n")) {
      const chunk = new Uint8Array(4096);
      const read = await conn.read(chunk);
      if (read === null) throw new Error(`connection closed, got ${JSON.stringify(buffer)}`);
      buffer += decoder.decode(chunk.subarray(0, read));
    }
    const end = buffer.indexOf("\r\n");
    const line = buffer.slice(0, end);
    buffer = buffer.slice(end + 2);
    return line;
  }
  try {
    assert.match(await nextLine(), /^\* OK/);
    const sasl = btoa(`user=${user}\x01auth=Bearer ${token}\x01\x01`);
    await conn.write(encoder.encode(`a1 AUTHENTICATE XOAUTH2 ${sasl}\r\n`));
    while (true) {
      const line = await nextLine();
      if (line.startsWith("a1 ")) return line;
      // On failure XOAUTH2 sends an error challenge that the client answers with an empty line.
      if (line.startsWith("+")) await conn.write(encoder.encode("\r\n"));
    }
  } finally {
    conn.close();
  }
}

Deno.test("XOAUTH2 logs in with a token the introspection endpoint accepts, not with a bad one", async () => {
  const introspection = startIntrospection();
  try {
    await using dovecot = await startDovecot({
      oauth2: { introspectionUrl: `http://127.0.0.1:${introspection.addr.port}/introspect` },
    });
    assert.match(await xoauth2Login(dovecot.port, USER, `good-${USER}`), /^a1 OK/);
    assert.match(await xoauth2Login(dovecot.port, USER, "bad-token"), /^a1 NO/);
    // A valid token of another account does not log in as this one.
    assert.match(await xoauth2Login(dovecot.port, USER, "good-bob@example.test"), /^a1 NO/);

    // imapflow (which prefers OAUTHBEARER when offered) works too.
    const imap = new ImapFlow({
      host: dovecot.host,
      port: dovecot.port,
      secure: false,
      auth: { user: USER, accessToken: `good-${USER}` },
      logger: false,
    });
    await imap.connect();
    assert.ok(imap.authenticated);
    await imap.logout();
    // Password logins keep working next to oauth2.
    await (await dovecot.client(USER)).logout();
  } finally {
    await introspection.shutdown();
  }
});

Deno.test("realisticMessage() is deterministic and cycles through every kind", async () => {
  const a = await realisticMessage(8, { attachmentBytes: 5000 });
  const b = await realisticMessage(8, { attachmentBytes: 5000 });
  assert.deepEqual(a, b);
  assert.ok(a.byteLength > 5000);
  const kinds = new Set<string>();
  const ids = new Set<string>();
  for (let i = 0; i < REALISTIC_KINDS.length * 2; i++) {
    kinds.add(realisticKind(i));
    const text = new TextDecoder().decode(await realisticMessage(i));
    const id = /^Message-ID: (.+)\r$/m.exec(text)?.[1];
    assert.equal(id, realisticMessageId(i));
    ids.add(id);
  }
  assert.equal(kinds.size, REALISTIC_KINDS.length);
  assert.equal(ids.size, REALISTIC_KINDS.length * 2);
  const latin1 = new TextDecoder().decode(
    await realisticMessage(REALISTIC_KINDS.indexOf("latin1-words")),
  );
  assert.match(latin1, /^Subject: =\?ISO-8859-1\?Q\?/m);
});

Deno.test("largeMessage() has about the requested size and ends its MIME structure", () => {
  const message = largeMessage(2_000_000);
  assert.ok(message.byteLength <= 2_000_000 && message.byteLength > 1_999_000);
  const tail = new TextDecoder().decode(message.subarray(message.byteLength - 40));
  assert.match(tail, /--large-boundary--\r\n$/);
});
