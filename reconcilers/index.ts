// Public API of flagella/reconcilers. Nothing outside this folder imports its internals.
export {};
