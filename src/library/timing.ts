// The library answers on the same equalizer as the service's password-reset requests.
export { QUANTUM_MS, createTimingEqualizer, type TimingEqualizer } from "../auth/answer-timing.ts";
