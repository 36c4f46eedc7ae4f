/* SPDX-License-Identifier: Apache-2.0 */
/* Per-reason counters and ring-buffer events. */
#ifndef FLG_LIB_METRICS_H
#define FLG_LIB_METRICS_H

#include "maps.h"
#include "parse.h"

/* Security identities of a policy verdict, carried into its drop event. */
struct flg_ids {
	__u32 src;
	__u32 dst;
};

/* Per-CPU slots: no atomics needed, tc and XDP run without migration. */
static __always_inline void flg_count(__u32 reason, __u32 len)
{
	struct flg_metrics_value *m = bpf_map_lookup_elem(&flg_metrics, &reason);
	if (m) {
		m->packets += 1;
		m->bytes += len;
	}
}

/* A full ring buffer loses the event, never the packet. */
static __always_inline void flg_emit(__u8 type, __u32 reason, __u8 hook, __u32 ifindex,
				     const struct flg_pkt *pkt, __u32 backend_id, __be16 rev_nat,
				     const struct flg_ids *ids)
{
	struct flg_event *ev = bpf_ringbuf_reserve(&flg_events, sizeof(*ev), 0);
	if (!ev)
		return;
	ev->timestamp_ns = bpf_ktime_get_ns();
	ev->type = type;
	ev->reason = reason;
	ev->hook = hook;
	ev->proto = pkt->proto;
	ev->ifindex = ifindex;
	ev->len = pkt->len;
	ev->saddr = pkt->saddr;
	ev->daddr = pkt->daddr;
	ev->sport = pkt->sport;
	ev->dport = pkt->dport;
	ev->backend_id = backend_id;
	ev->rev_nat_index = rev_nat;
	ev->pad = 0;
	ev->src_identity = ids->src;
	ev->dst_identity = ids->dst;
	bpf_ringbuf_submit(ev, 0);
}

/* Counts the outcome; sends a drop event always, a trace event when enabled. */
static __always_inline void flg_account(const struct flg_config *cfg, __u32 reason, __u8 hook,
					__u32 ifindex, const struct flg_pkt *pkt, __u32 backend_id,
					__be16 rev_nat, const struct flg_ids *ids)
{
	flg_count(reason, pkt->len);
	if (reason >= FLG_REASON_DROP_FIRST)
		flg_emit(FLG_EVENT_DROP, reason, hook, ifindex, pkt, backend_id, rev_nat, ids);
	else if (cfg->flags & FLG_CFG_F_TRACE_EVENTS)
		flg_emit(FLG_EVENT_TRACE, reason, hook, ifindex, pkt, backend_id, rev_nat, ids);
}

#endif /* FLG_LIB_METRICS_H */
