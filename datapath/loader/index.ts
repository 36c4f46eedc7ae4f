// The datapath loader: the public face of datapath/loader, re-exported by
// datapath/index.ts.
export { Reason, REASON_DROP_FIRST, REASON_MAX, isDrop, reasonName, type ReasonName } from './reasons.js';
