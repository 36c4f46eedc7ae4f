// Public API of flagella/statedb. Nothing outside this folder imports its internals.
export {};
