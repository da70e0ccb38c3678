import type { StoredEvent } from "../store/index.ts";
import { isoTime } from "../time.ts";

/** An event as the HTTP API and the CLI's --json show it: `at` as ISO 8601 UTC. */
export type EventView = Omit<StoredEvent, "type" | "at"> & { readonly type: string; readonly at: string };

export function toEventView(event: StoredEvent): EventView {
  return { ...event, at: isoTime(event.at) };
}
