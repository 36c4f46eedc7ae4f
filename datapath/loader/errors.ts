// Errors of the datapath loader. Kernel failures stay BpfError (from the
// kernel layer); these are the loader's own refusals, each saying what to do.

/** A pinned map from an earlier run no longer matches the object's definition. */
export class PinnedMapMismatchError extends Error {
  override readonly name = 'PinnedMapMismatchError';
  constructor(
    readonly mapName: string,
    readonly pinPath: string,
    /** One entry per differing property, e.g. "max_entries: pinned 65536, object 131072". */
    readonly differences: readonly string[],
  ) {
    super(
      `pinned map ${mapName} (${pinPath}) does not match the datapath object: ${differences.join('; ')}. ` +
        `Either load with the settings the map was created with, or remove the pin ` +
        `(rm ${pinPath}; its entries are lost and rebuilt by the agent) and load again.`,
    );
  }
}

/** XDP was asked for on a veth without `forceXdpOnVeth`. */
export class XdpOnVethError extends Error {
  override readonly name = 'XdpOnVethError';
  constructor(readonly device: string) {
    super(
      `refusing to attach XDP to ${device}: it is a veth, and native XDP on a veth turns off TSO on its peer ` +
        `(bulk TCP drops about 3x). Use mode 'tcx' for veths, or pass forceXdpOnVeth: true if you really mean it.`,
    );
  }
}

/** Bad loader input (configuration values, device names). */
export class DatapathConfigError extends Error {
  override readonly name = 'DatapathConfigError';
}
