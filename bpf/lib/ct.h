/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connection tracking for load-balanced flows (flg_ct4, LRU): a SERVICE
 * entry per client flow remembers its backend, a REPLY entry per flow lets
 * the backend's replies be rewritten back to the VIP. Entries are refreshed
 * by the packets that match them; the LRU evicts what is no longer used, and
 * an expired SERVICE entry is treated as absent (the flow selects again).
 */
#ifndef FLG_LIB_CT_H
#define FLG_LIB_CT_H

#include "maps.h"
#include "parse.h"

static __always_inline __u32 flg_ct_timeout(const struct flg_config *cfg, const struct flg_pkt *pkt)
{
	if (pkt->proto != IPPROTO_TCP)
		return cfg->ct_timeout_other_s;
	if (pkt->tcp_flags & (TCP_FLAG_FIN | TCP_FLAG_RST))
		return cfg->ct_timeout_fin_s;
	if (flg_is_syn(pkt))
		return cfg->ct_timeout_syn_s;
	return cfg->ct_timeout_tcp_s;
}

/* Extends an entry's life for a packet that matched it. A closing flow keeps
 * its short timeout until a new SYN reopens it. Writes only what changed, to
 * keep the entry's cache line clean on the common path. */
static __always_inline void flg_ct_refresh(struct ct4_entry *e, const struct flg_config *cfg,
					   const struct flg_pkt *pkt, __u32 now)
{
	__u16 flags = e->flags;

	if (pkt->tcp_flags & (TCP_FLAG_FIN | TCP_FLAG_RST))
		flags |= FLG_CT_F_CLOSING;
	else if (flg_is_syn(pkt))
		flags &= ~FLG_CT_F_CLOSING;
	__u32 timeout = (flags & FLG_CT_F_CLOSING) ? cfg->ct_timeout_fin_s : flg_ct_timeout(cfg, pkt);
	__u32 lifetime = now + timeout;
	if (e->lifetime != lifetime)
		e->lifetime = lifetime;
	if (e->flags != flags)
		e->flags = flags;
}

static __always_inline void flg_ct_service_key(struct ct4_key *k, const struct flg_pkt *pkt)
{
	k->saddr = pkt->saddr;
	k->daddr = pkt->daddr;
	k->sport = pkt->sport;
	k->dport = pkt->dport;
	k->proto = pkt->proto;
	k->flags = FLG_CT_KEY_SERVICE;
	k->pad = 0;
}

/* Writes both entries of a flow that has just chosen (or changed) backend.
 * Returns 0, or a negative error when the LRU could not take an entry. */
static __always_inline int flg_ct_create(const struct flg_config *cfg, const struct flg_pkt *pkt,
					 const struct lb4_backend *be, __u32 backend_id,
					 __be16 rev_nat, __be16 backend_port, __u32 now,
					 struct ct4_entry *existing)
{
	struct ct4_entry entry = {
		.backend_id = backend_id,
		.lifetime = now + flg_ct_timeout(cfg, pkt),
		.rev_nat_index = rev_nat,
		.created = now,
	};
	struct ct4_key key;

	flg_ct_service_key(&key, pkt);
	if (existing) {
		/* An expired or re-selecting flow: rewrite its entry in place,
		 * cheaper than an LRU update that allocates a new node. */
		*existing = entry;
	} else if (bpf_map_update_elem(&flg_ct4, &key, &entry, BPF_ANY)) {
		return -1;
	}

	key.saddr = be->address;
	key.daddr = pkt->saddr;
	key.sport = backend_port;
	key.dport = pkt->sport;
	key.flags = FLG_CT_KEY_REPLY;
	if (bpf_map_update_elem(&flg_ct4, &key, &entry, BPF_ANY))
		return -1;
	return 0;
}

/* The REPLY entry matching a packet sent by a backend, or NULL. */
static __always_inline struct ct4_entry *flg_ct_lookup_reply(const struct flg_pkt *pkt)
{
	struct ct4_key key = {
		.saddr = pkt->saddr,
		.daddr = pkt->daddr,
		.sport = pkt->sport,
		.dport = pkt->dport,
		.proto = pkt->proto,
		.flags = FLG_CT_KEY_REPLY,
	};
	return bpf_map_lookup_elem(&flg_ct4, &key);
}

#endif /* FLG_LIB_CT_H */
