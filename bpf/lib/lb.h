/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Service load balancing, independent of the hook: service lookup, source
 * ranges, conntrack reuse, session affinity and backend selection. The hook
 * (tc or XDP) applies the resulting rewrite with the tools it has.
 */
#ifndef FLG_LIB_LB_H
#define FLG_LIB_LB_H

#include "ct.h"
#include "endpoint.h"
#include "jhash.h"
#include "maps.h"
#include "parse.h"

/* Where a packet goes after load balancing. */
struct flg_lb_target {
	__be32 addr;
	__be16 port;
	__be16 rev_nat_index;
	__u32 backend_id;
};

/* Zero keys keep pad bytes zero: hash keys compare every byte. */
static __always_inline struct lb4_service *flg_lb4_lookup_slot(struct lb4_key *key, __u16 slot)
{
	key->backend_slot = slot;
	return bpf_map_lookup_elem(&flg_lb4_services, key);
}

/* found XOR deny: the source-range verdict of reference §6. */
static __always_inline int flg_lb4_source_allowed(const struct lb4_service *svc, __be32 saddr)
{
	struct lb4_src_range_key key = {
		.prefixlen = 64,
		.rev_nat_id = svc->rev_nat_index,
		.addr = saddr,
	};
	int found = bpf_map_lookup_elem(&flg_lb4_source_range, &key) != NULL;
	int deny = (svc->flags2 & FLG_SVC_F2_SOURCE_RANGE_DENY) != 0;
	return found ^ deny;
}

/* The sticky backend of this client for this service, or 0 when there is
 * none, it expired, or the backend may no longer stick (no match entry). */
static __always_inline __u32 flg_lb4_affinity_backend(const struct lb4_service *svc, __be32 saddr,
						      __u32 now)
{
	struct lb4_affinity_key key = { .client_ip = saddr, .rev_nat_id = svc->rev_nat_index };
	struct lb_affinity_val *val = bpf_map_lookup_elem(&flg_lb4_affinity, &key);
	if (!val)
		return 0;
	__u32 timeout = svc->backend_id & FLG_LB_AFFINITY_TIMEOUT_MASK;
	if (now - val->last_used > timeout)
		return 0;
	struct lb_affinity_match match = { .backend_id = val->backend_id, .rev_nat_id = svc->rev_nat_index };
	if (!bpf_map_lookup_elem(&flg_lb_affinity_match, &match))
		return 0;
	return val->backend_id;
}

static __always_inline void flg_lb4_affinity_store(const struct lb4_service *svc, __be32 saddr,
						   __u32 backend_id, __u32 now)
{
	struct lb4_affinity_key key = { .client_ip = saddr, .rev_nat_id = svc->rev_nat_index };
	struct lb_affinity_val val = { .last_used = now, .backend_id = backend_id };
	bpf_map_update_elem(&flg_lb4_affinity, &key, &val, BPF_ANY);
}

/* Maglev: hash(saddr, sport, proto) mod M into the service's inner table.
 * The destination is left out so a client maps alike on every VIP and node. */
static __always_inline __u32 flg_lb4_maglev_backend(const struct flg_config *cfg,
						    const struct lb4_service *svc,
						    const struct flg_pkt *pkt)
{
	__u32 table_size = cfg->maglev_table_size;
	if (!table_size)
		return 0;
	void *table = bpf_map_lookup_elem(&flg_lb4_maglev, &svc->rev_nat_index);
	if (!table)
		return 0;
	__u32 index = flg_jhash_3words(pkt->saddr, pkt->sport, pkt->proto, cfg->hash_seed) % table_size;
	__u32 *id = bpf_map_lookup_elem(table, &index);
	return id ? *id : 0;
}

/* Picks a backend for a new flow (or a SYN whose backend left): affinity
 * first, then the service's algorithm. A Maglev service whose table is not
 * there (yet) falls back to random rather than dropping. */
static __always_inline __u32 flg_lb4_select(const struct flg_config *cfg, struct lb4_key *key,
					    const struct lb4_service *svc,
					    const struct flg_pkt *pkt, __u32 now)
{
	__u32 id = 0;

	if (svc->flags & FLG_SVC_F_AFFINITY)
		id = flg_lb4_affinity_backend(svc, pkt->saddr, now);
	if (!id) {
		__u32 alg = svc->backend_id >> FLG_LB_ALG_SHIFT;
		if (alg == FLG_LB_ALG_DEFAULT)
			alg = cfg->default_lb_algorithm;
		if (alg == FLG_LB_ALG_MAGLEV)
			id = flg_lb4_maglev_backend(cfg, svc, pkt);
	}
	if (!id) {
		__u16 slot = (bpf_get_prandom_u32() % svc->count) + 1;
		struct lb4_service *s = flg_lb4_lookup_slot(key, slot);
		if (s)
			id = s->backend_id;
	}
	return id;
}

/*
 * The forward path for a parsed packet that arrived on `ifindex`. Returns
 * FLG_REASON_FORWARDED with *t filled when the packet must be DNATed,
 * FLG_REASON_PASSED when its destination is not a service, or a drop reason.
 */
static __always_inline __u32 flg_lb4_forward(const struct flg_config *cfg, const struct flg_pkt *pkt,
					     struct flg_lb_target *t, __u32 ifindex)
{
	struct lb4_key key = {
		.address = pkt->daddr,
		.dport = pkt->dport,
		.proto = pkt->proto,
		.scope = FLG_LB_SCOPE_EXTERNAL,
	};
	struct lb4_service *svc = bpf_map_lookup_elem(&flg_lb4_services, &key);
	if (svc && (svc->flags2 & FLG_SVC_F2_TWO_SCOPES) && flg_endpoint_lookup(ifindex)) {
		/* East-west (from a local endpoint) to a service with two
		 * scopes: in-cluster traffic uses the internal-scope entry and
		 * its backends (reference §8.1 step 3). Without one, as in
		 * Cilium, the VIP is no service for this client. The slot
		 * lookups below reuse the key, so they stay in this scope. */
		key.scope = FLG_LB_SCOPE_INTERNAL;
		svc = bpf_map_lookup_elem(&flg_lb4_services, &key);
		if (!svc)
			return FLG_REASON_PASSED;
	}
	if (!svc) {
		if (!(cfg->flags & FLG_CFG_F_WILDCARD_DROP))
			return FLG_REASON_PASSED;
		struct lb4_key wild = { .address = pkt->daddr, .proto = FLG_PROTO_ANY };
		if (bpf_map_lookup_elem(&flg_lb4_services, &wild))
			return FLG_REASON_DROP_NO_SERVICE_PORT;
		return FLG_REASON_PASSED;
	}
	t->rev_nat_index = svc->rev_nat_index;
	if (svc->count == 0)
		return FLG_REASON_DROP_NO_BACKEND;
	if ((svc->flags & FLG_SVC_F_SOURCE_RANGE) && !flg_lb4_source_allowed(svc, pkt->saddr))
		return FLG_REASON_DROP_NOT_IN_SOURCE_RANGE;

	__u32 now = flg_now_seconds();
	struct ct4_key ct_key;
	flg_ct_service_key(&ct_key, pkt);
	struct ct4_entry *ct = bpf_map_lookup_elem(&flg_ct4, &ct_key);
	struct lb4_backend *be;
	__u32 backend_id;

	if (ct && ct->lifetime > now) {
		/* An existing flow keeps its backend, even a terminating one,
		 * so it drains; only a new SYN moves off a backend that is gone
		 * or no longer active. */
		backend_id = ct->backend_id;
		be = bpf_map_lookup_elem(&flg_lb4_backends, &backend_id);
		if (be && (be->flags == FLG_BE_STATE_ACTIVE || !flg_is_syn(pkt))) {
			flg_ct_refresh(ct, cfg, pkt, now);
			if (ct->rev_nat_index != svc->rev_nat_index)
				ct->rev_nat_index = svc->rev_nat_index;
			goto found;
		}
	}

	backend_id = flg_lb4_select(cfg, &key, svc, pkt, now);
	if (!backend_id)
		return FLG_REASON_DROP_BACKEND_MISSING;
	be = bpf_map_lookup_elem(&flg_lb4_backends, &backend_id);
	if (!be)
		return FLG_REASON_DROP_BACKEND_MISSING;
	__be16 port = be->port ? be->port : pkt->dport;
	if (flg_ct_create(cfg, pkt, be, backend_id, svc->rev_nat_index, port, now, ct))
		return FLG_REASON_DROP_CT_CREATE_FAILED;
	if (svc->flags & FLG_SVC_F_AFFINITY)
		flg_lb4_affinity_store(svc, pkt->saddr, backend_id, now);

found:
	t->addr = be->address;
	t->port = be->port ? be->port : pkt->dport;
	t->backend_id = backend_id;
	return FLG_REASON_FORWARDED;
}

/*
 * The reverse path: a packet from a backend that belongs to a load-balanced
 * flow. Returns 1 with *t holding the VIP:port to restore as the source, or
 * 0 when the packet is no reply we translated (or its service is gone).
 */
static __always_inline int flg_lb4_reverse(const struct flg_config *cfg, const struct flg_pkt *pkt,
					   struct flg_lb_target *t)
{
	struct ct4_entry *ct = flg_ct_lookup_reply(pkt);
	if (!ct)
		return 0;
	__be16 rev_nat = ct->rev_nat_index;
	struct lb4_reverse_nat *rn = bpf_map_lookup_elem(&flg_lb4_reverse_nat, &rev_nat);
	if (!rn)
		return 0;
	flg_ct_refresh(ct, cfg, pkt, flg_now_seconds());
	if (!(ct->flags & FLG_CT_F_SEEN_REPLY))
		ct->flags |= FLG_CT_F_SEEN_REPLY;
	t->addr = rn->address;
	t->port = rn->port ? rn->port : pkt->sport;
	t->rev_nat_index = rev_nat;
	t->backend_id = ct->backend_id;
	return 1;
}

#endif /* FLG_LIB_LB_H */
