/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network policy, enforced at the host-side interface of each endpoint (the
 * endpoint is found by skb->ifindex in flg_endpoints):
 *   tc ingress of that interface sees what the endpoint sends: its egress
 *     policy, judged after service DNAT on the backend's identity and port;
 *   tc egress sees what is sent to the endpoint: its ingress policy.
 *
 * Connection tracking (flg_ct4 EGRESS / INGRESS entries, see maps.h) takes a
 * verdict once per flow and side: packets of an established flow and its
 * replies skip the lookup, so a policy change applies to new connections and
 * leaves established ones alone. A TCP SYN always takes a fresh verdict: it
 * opens a new connection, whatever an old one on the same tuple was allowed.
 *
 * While flg_policy_state says no endpoint enforces anything, none of this
 * runs: one inlined array read is the whole cost.
 *
 * This file judges parsed flows (TCP, UDP, and what policy-other.h reads of
 * ICMP, SCTP, other protocols and fragments); policy-other.h decides what
 * everything the service path does not parse becomes.
 */
#ifndef FLG_LIB_POLICY_H
#define FLG_LIB_POLICY_H

#include "ct.h"
#include "endpoint.h"
#include "maps.h"
#include "metrics.h"
#include "parse.h"

/* A flow's addresses and ports as one endpoint sees it. */
struct flg_tuple {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
};

/* The endpoint behind `ifindex` when some endpoint enforces policy; NULL
 * otherwise (no endpoint there, or policy off node-wide). */
static __always_inline const struct endpoint_info *flg_policy_endpoint(__u32 ifindex)
{
	__u32 zero = 0;
	const struct flg_policy_state *state = bpf_map_lookup_elem(&flg_policy_state, &zero);
	if (!state || !state->enforcing_endpoints)
		return NULL;
	return flg_endpoint_lookup(ifindex);
}

/* The security identity of an address: its longest ipcache prefix, or world. */
static __always_inline __u32 flg_ipcache_identity(__be32 addr)
{
	struct ipcache_key key = {
		.prefixlen = FLG_IPCACHE_STATIC_PREFIX + 32,
		.family = FLG_IPCACHE_FAMILY_IPV4,
	};
	key.ip[0] = addr;
	const struct remote_endpoint_info *info = bpf_map_lookup_elem(&flg_ipcache, &key);
	return info ? info->sec_identity : FLG_IDENTITY_WORLD;
}

static __always_inline __u8 flg_policy_lpm_bits(const struct policy_entry *e)
{
	return e->flags >> FLG_POLICY_LPM_PREFIX_SHIFT;
}

/* The match type of an allowing entry, from its proto+port prefix (§8.6). */
static __always_inline int flg_policy_match(const struct policy_entry *e, int l3)
{
	__u8 bits = flg_policy_lpm_bits(e);
	if (l3)
		return bits > 8 ? FLG_POLICY_MATCH_L3_L4 : bits > 0 ? FLG_POLICY_MATCH_L3_PROTO : FLG_POLICY_MATCH_L3_ONLY;
	return bits == 0 ? FLG_POLICY_MATCH_ALL : bits <= 8 ? FLG_POLICY_MATCH_PROTO_ONLY : FLG_POLICY_MATCH_L4_ONLY;
}

#define FLG_POLICY_NO_ENTRY 0
#define FLG_POLICY_DENIED  (-1)

/*
 * The lookup of reference §8.6 in an endpoint's policy map: the L3 entry
 * (exact peer identity, longest proto+port prefix), a deny there ends it;
 * then the L4-only entry (identity 0), preferred when there is no L3 entry,
 * its precedence is higher, or the precedences tie and its prefix is longer.
 * Deny entries carry FLG_POLICY_MAX_PRECEDENCE, so deny wins over any allow.
 * Returns the match type (> 0) to allow, FLG_POLICY_NO_ENTRY or
 * FLG_POLICY_DENIED. An endpoint without a policy map has no entry.
 */
static __always_inline int flg_policy_lookup(__u32 endpoint_id, __u32 peer, __u8 direction, __u8 proto,
					     __be16 dport)
{
	void *map = bpf_map_lookup_elem(&flg_policy, &endpoint_id);
	if (!map)
		return FLG_POLICY_NO_ENTRY;
	struct policy_key key = {
		.prefixlen = FLG_POLICY_FULL_PREFIX,
		.sec_label = peer,
		.egress = direction,
		.protocol = proto,
		.dport = dport,
	};
	const struct policy_entry *l3 = bpf_map_lookup_elem(map, &key);
	if (l3 && (l3->flags & FLG_POLICY_F_DENY))
		return FLG_POLICY_DENIED;
	key.sec_label = FLG_IDENTITY_ANY;
	const struct policy_entry *l4 = bpf_map_lookup_elem(map, &key);
	if (l4 && (!l3 || l4->precedence > l3->precedence ||
		   (l4->precedence == l3->precedence && flg_policy_lpm_bits(l4) > flg_policy_lpm_bits(l3))))
		return (l4->flags & FLG_POLICY_F_DENY) ? FLG_POLICY_DENIED : flg_policy_match(l4, 0);
	if (!l3)
		return FLG_POLICY_NO_ENTRY;
	return flg_policy_match(l3, 1);
}

static __always_inline __u32 flg_policy_drop_reason(int verdict, int egress)
{
	if (verdict == FLG_POLICY_DENIED)
		return egress ? FLG_REASON_DROP_POLICY_DENY_EGRESS : FLG_REASON_DROP_POLICY_DENY_INGRESS;
	return egress ? FLG_REASON_DROP_POLICY_EGRESS : FLG_REASON_DROP_POLICY_INGRESS;
}

/* How a packet takes part in policy connection tracking. */
#define FLG_POLICY_CT_TRACK  0 /* found as a flow or a reply; a new allowed flow is recorded */
#define FLG_POLICY_CT_LOOKUP 1 /* found as a flow or a reply, never recorded (ICMP echo reply, later fragment) */
#define FLG_POLICY_CT_NONE   2 /* judged by policy alone (ICMP that is neither echo nor a tracked error) */

/*
 * The verdict on one packet at endpoint `ep` in `direction`. `tuple` is the
 * flow as the endpoint sees it: as it sent it (egress, before any DNAT) or
 * as it receives it (ingress, after any reverse NAT). `peer_addr` and
 * `dport` are what policy judges: the destination after DNAT on egress, the
 * source and the destination port on ingress. Every endpoint's flows are
 * tracked, enforced or not, so a reply finds the entry its flow left on
 * this side whichever directions each side enforces. `ct_mode` is a
 * FLG_POLICY_CT_* constant (the branches it rules out compile away).
 * Returns FLG_REASON_PASSED or a policy drop reason; *ids is filled for
 * new flows.
 */
static __always_inline __u32 flg_policy_check(const struct flg_config *cfg, const struct endpoint_info *ep,
					      __u8 direction, const struct flg_tuple *tuple,
					      const struct flg_pkt *pkt, __be32 peer_addr, __be16 dport,
					      int ct_mode, struct flg_ids *ids)
{
	int egress = direction == FLG_POLICY_EGRESS;
	struct ct4_key key = {
		.saddr = tuple->saddr,
		.daddr = tuple->daddr,
		.sport = tuple->sport,
		.dport = tuple->dport,
		.proto = pkt->proto,
		.flags = egress ? FLG_CT_KEY_EGRESS : FLG_CT_KEY_INGRESS,
	};
	__u32 now = flg_now_seconds();
	int syn = flg_is_syn(pkt);
	struct ct4_entry *flow = NULL;

	if (ct_mode != FLG_POLICY_CT_NONE) {
		flow = bpf_map_lookup_elem(&flg_ct4, &key);
		if (flow && flow->lifetime > now && !syn) {
			flg_ct_refresh(flow, cfg, pkt, now);
			return FLG_REASON_PASSED;
		}
	}
	if (ct_mode != FLG_POLICY_CT_NONE && !syn) {
		/* A reply: the reversed tuple is a flow this endpoint's peer
		 * opened towards it (ingress entry) or it opened (egress). */
		struct ct4_key origin = {
			.saddr = tuple->daddr,
			.daddr = tuple->saddr,
			.sport = tuple->dport,
			.dport = tuple->sport,
			.proto = pkt->proto,
			.flags = egress ? FLG_CT_KEY_INGRESS : FLG_CT_KEY_EGRESS,
		};
		struct ct4_entry *opened = bpf_map_lookup_elem(&flg_ct4, &origin);
		if (opened && opened->lifetime > now) {
			flg_ct_refresh(opened, cfg, pkt, now);
			if (!(opened->flags & FLG_CT_F_SEEN_REPLY))
				opened->flags |= FLG_CT_F_SEEN_REPLY;
			return FLG_REASON_PASSED;
		}
	}

	/* A new flow (or a SYN reopening a tuple). */
	__u32 peer = flg_ipcache_identity(peer_addr);
	ids->src = egress ? ep->sec_identity : peer;
	ids->dst = egress ? peer : ep->sec_identity;
	struct ct4_entry entry = {
		.lifetime = now + flg_ct_timeout(cfg, pkt),
		.peer_identity = peer,
		.created = now,
	};
	if (ep->flags & (egress ? FLG_EP_F_EGRESS_POLICY : FLG_EP_F_INGRESS_POLICY)) {
		int match = flg_policy_lookup(ep->endpoint_id, peer, direction, pkt->proto, dport);
		if (match <= 0) {
			/* A refused SYN ends whatever the tuple allowed before. */
			if (flow)
				bpf_map_delete_elem(&flg_ct4, &key);
			return flg_policy_drop_reason(match, egress);
		}
		entry.flags = FLG_CT_F_POLICY_ENFORCED;
		entry.policy_match = match;
	}
	if (ct_mode != FLG_POLICY_CT_TRACK)
		return FLG_REASON_PASSED;
	/* A full LRU evicts; if the write still fails, the next packet of
	 * the flow is judged again, which is safe. */
	if (flow)
		*flow = entry;
	else
		bpf_map_update_elem(&flg_ct4, &key, &entry, BPF_ANY);
	return FLG_REASON_PASSED;
}

#endif /* FLG_LIB_POLICY_H */
