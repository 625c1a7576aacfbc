/**
 * Structured logging: JSON or pretty lines on stderr, child loggers with bound fields; never an
 * address or message content.
 *
 * @module
 */

export * from "./logger.ts";
