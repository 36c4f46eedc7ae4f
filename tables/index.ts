// Public API of flagella/tables. Nothing outside this folder imports its internals.
export {};
