/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hook points for network policy. Nothing is enforced yet: the maps
 * (flg_ipcache, flg_endpoints, flg_policy) are defined and these functions
 * are where the policy work plugs its checks in.
 */
#ifndef FLG_LIB_POLICY_H
#define FLG_LIB_POLICY_H

#include "lb.h"
#include "maps.h"
#include "parse.h"

/*
 * After DNAT, before the packet continues to its backend: policy applies to
 * the backend (its identity from flg_ipcache on t->addr, its port t->port),
 * as in Cilium. A verdict can be cached in the flow's ct4_entry
 * (FLG_CT_F_POLICY_DONE / policy_verdict) so only new flows pay the lookup.
 * Returns FLG_REASON_FORWARDED to allow, or a drop reason.
 */
static __always_inline __u32 flg_policy_to_backend(const struct flg_config *cfg,
						   const struct flg_pkt *pkt,
						   const struct flg_lb_target *t)
{
	(void)cfg;
	(void)pkt;
	(void)t;
	return FLG_REASON_FORWARDED;
}

/*
 * On tc egress of an endpoint's host-side interface: traffic into the
 * endpoint (flg_endpoints[ifindex] with FLG_EP_F_INGRESS_POLICY). Returns
 * FLG_REASON_PASSED to allow, or a drop reason.
 */
static __always_inline __u32 flg_policy_into_endpoint(const struct flg_config *cfg,
						      const struct flg_pkt *pkt, __u32 ifindex)
{
	(void)cfg;
	(void)pkt;
	(void)ifindex;
	return FLG_REASON_PASSED;
}

#endif /* FLG_LIB_POLICY_H */
