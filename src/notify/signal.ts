/**
 * Tells this process's dispatcher that new notices were committed, so they go out at once
 * instead of at the next poll. Other processes find them by polling.
 */
export interface OutboxSignal {
  wake(): void;
  /** Registers a listener; returns the function that removes it. */
  onWake(listener: () => void): () => void;
}

export function createOutboxSignal(): OutboxSignal {
  const listeners = new Set<() => void>();
  return {
    wake() {
      for (const listener of listeners) listener();
    },
    onWake(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
