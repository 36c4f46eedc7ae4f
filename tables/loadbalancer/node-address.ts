// An address of this node: NodePort and HostPort surrogates expand to the
// addresses flagged nodePort.

export interface NodeAddress {
  /** Canonical IPv4 or IPv6 address. */
  readonly ip: string;
  /** True when NodePort services answer on this address. */
  readonly nodePort: boolean;
  /** True for the node's primary address of its family. */
  readonly primary: boolean;
  /** Interface the address is on ('' when not known). */
  readonly device: string;
}
