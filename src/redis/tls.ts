/**
 * TLS settings of a `rediss://` connection: SNI only for host names (an IP
 * address may not be sent as SNI: Node's TLS refuses it with "servername must
 * not be an IP address", and the certificate is then checked against the IP
 * SAN instead), and a private CA read from `REDIS_TLS_CA` instead of the
 * undocumented `DENO_CERT`.
 *
 * @module
 */

import { isIP } from "node:net";
import { ConfigError } from "../errors.ts";

/** What ioredis passes to `tls.connect` for a `rediss://` URL. */
export interface RedisTlsOptions {
  /** SNI: the host name; absent for IP literals. */
  servername?: string;
  /** PEM text of the CA(s) to trust instead of the system's. */
  ca?: string;
}

/** TLS options for a connection to `hostname` (from a URL, IPv6 brackets allowed). */
export function redisTlsOptions(hostname: string, caPem?: string): RedisTlsOptions {
  const host = hostname.replace(/^\[|\]$/g, "");
  return {
    ...(isIP(host) === 0 ? { servername: host } : {}),
    ...(caPem === undefined ? {} : { ca: caPem }),
  };
}

/** Reads the PEM CA file of `REDIS_TLS_CA`, or throws a {@link ConfigError} naming it. */
export async function readRedisTlsCa(path: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new ConfigError([
      `REDIS_TLS_CA: cannot read the CA file ${path} (${
        error instanceof Error ? error.message : String(error)
      }): point it at a readable PEM file`,
    ], { cause: error });
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) {
    throw new ConfigError([
      `REDIS_TLS_CA: ${path} holds no PEM certificate ("-----BEGIN CERTIFICATE-----"): ` +
      "give the CA certificate in PEM form",
    ]);
  }
  return text;
}
