/**
 * `--sink stdout`: one JSON document per line on standard output, for pipes
 * (`ingest work --sink stdout | jq .payload.subject`) and debugging.
 *
 * @module
 */

import { deliveryJson, type Sink } from "./sink.ts";

/** A sink that writes each entry as a JSON line through `write` (the process's stdout). */
export function createStdoutSink(write: (text: string) => void): Sink {
  return {
    kind: "stdout",
    handle(delivery) {
      // `write` is synchronous: the line has left the process when it returns.
      write(deliveryJson(delivery) + "\n");
      return Promise.resolve();
    },
    close: () => Promise.resolve(),
  };
}
