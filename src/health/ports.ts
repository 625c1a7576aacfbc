/**
 * The ports `ingest` listens on by default, in one place (documented in
 * docs/OBSERVABILITY.md, "Ports"). One block that no common neighbour uses
 * by default: Prometheus keeps its own 9090, Redis 6379, IMAP 143/993. The
 * systemd units in docs/systemd and ops/prometheus/prometheus.yml use exactly
 * these (tests/ports_test.ts checks).
 *
 * @module
 */

/** Default ports: `produce`'s and `work`'s health servers, and `metrics serve`. */
export const DEFAULT_PORTS = {
  /** `ingest produce`: `/health /ready /status /metrics` (the default of `HEALTH_PORT`). */
  produce: 8080,
  /** `ingest work` beside a producer on the same host: `--health-port 8081` / `HEALTH_PORT=8081`. */
  work: 8081,
  /** `ingest metrics serve --port`. */
  exporter: 8082,
} as const;

/** The paths every health server answers (anything else is a 404). */
export const HEALTH_PATHS = ["/health", "/ready", "/status", "/metrics"] as const;
