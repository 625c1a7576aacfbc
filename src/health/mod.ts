/**
 * The health endpoints (`/health`, `/ready`, `/status`, `/metrics`) every long-running command
 * serves, and the deadline that keeps them answering when Redis or IMAP hang.
 *
 * @module
 */

export * from "./server.ts";
export * from "./deadline.ts";
