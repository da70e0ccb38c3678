/** Types of server-flags.js, which stays JavaScript so the launcher needs no compilation. */
export declare const SERVER_NODE_FLAGS: readonly string[];
export declare function serverEnvironment(env?: NodeJS.ProcessEnv): { UV_THREADPOOL_SIZE?: string };
export declare function reexecWithServerFlags(): void;
