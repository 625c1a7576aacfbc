import assert from "node:assert/strict";
import { certificateAdvice, toImapError } from "./imap_errors.ts";

/** An error as Node's (and Deno's) TLS layer raises it for a refused certificate. */
function tlsError(code: string): Error {
  return Object.assign(new Error("unable to verify the first certificate"), { code });
}

Deno.test("toImapError() says what to do about a refused TLS certificate", () => {
  const untrusted = toImapError(tlsError("UNABLE_TO_VERIFY_LEAF_SIGNATURE"), "connect");
  assert.equal(untrusted.code, "IMAP_CONNECTION");
  assert.match(
    untrusted.message,
    /^IMAP connect failed: unable to verify the first certificate\. /,
  );
  assert.match(untrusted.message, /DENO_CERT=\/path\/to\/ca\.pem/);
  assert.match(
    toImapError(tlsError("ERR_TLS_CERT_ALTNAME_INVALID"), "connect").message,
    /IMAP_HOST/,
  );
  assert.match(toImapError(tlsError("CERT_HAS_EXPIRED"), "connect").message, /clock/);
});

Deno.test("certificateAdvice() reads rustls' reasons too, as Deno.connectTls gives them", () => {
  const rustls = (reason: string) => new Error(`invalid peer certificate: ${reason}`);
  assert.match(certificateAdvice(rustls("UnknownIssuer"))!, /DENO_CERT/);
  assert.match(certificateAdvice(rustls("NotValidForName"))!, /IMAP_HOST/);
  assert.match(certificateAdvice(rustls("Expired"))!, /clock/);
});

Deno.test("certificateAdvice() says nothing about errors that are not about a certificate", () => {
  for (const code of ["ECONNREFUSED", "ETIMEDOUT", "NoConnection"]) {
    assert.equal(
      certificateAdvice(Object.assign(new Error("connect failed"), { code })),
      undefined,
    );
  }
  assert.equal(certificateAdvice(new Error("Connection refused (os error 111)")), undefined);
  assert.equal(certificateAdvice(undefined), undefined);
  const refused = toImapError(tlsError("ECONNREFUSED"), "connect");
  assert.equal(refused.message, "IMAP connect failed: unable to verify the first certificate");
});
