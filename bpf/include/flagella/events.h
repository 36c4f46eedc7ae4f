/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Why a packet ended as it did (flg_metrics index, flg_event.reason), and the
 * events the datapath sends to userspace through flg_events (RINGBUF).
 *
 * The TypeScript side mirrors enum flg_reason in datapath/loader/reasons.ts
 * (the layout generator covers map keys and values, and the enum is neither);
 * test/bpf/reasons.test.ts compares the two, so add a value in both places.
 * Values are stable: they index pinned per-CPU counters that survive restarts.
 */
#ifndef FLAGELLA_EVENTS_H
#define FLAGELLA_EVENTS_H

#include <linux/types.h>

enum flg_reason {
	/* The packet went on. */
	FLG_REASON_FORWARDED = 0,        /* to a service: DNATed to a backend */
	FLG_REASON_REVERSE_NAT = 1,      /* a backend's reply rewritten back to VIP:port */
	FLG_REASON_PASSED = 2,           /* not a service: left untouched */
	FLG_REASON_PASSED_FRAGMENT = 3,  /* an IPv4 fragment: never load-balanced, left untouched */
	/* The packet was dropped. Every value from FLG_REASON_DROP_FIRST on is a drop. */
	FLG_REASON_DROP_FIRST = 8,
	FLG_REASON_DROP_NO_BACKEND = 8,         /* the service has no active backend (count 0) */
	FLG_REASON_DROP_NOT_IN_SOURCE_RANGE = 9, /* the client is outside the service's source ranges */
	FLG_REASON_DROP_NO_SERVICE_PORT = 10,   /* a VIP's wildcard entry: no service on this port/proto */
	FLG_REASON_DROP_BACKEND_MISSING = 11,   /* a slot or backend entry the master points at is missing */
	FLG_REASON_DROP_MALFORMED = 12,         /* truncated IPv4 or L4 header, bad IHL or total length */
	FLG_REASON_DROP_CSUM_ERROR = 13,        /* a packet rewrite helper failed */
	FLG_REASON_DROP_CT_CREATE_FAILED = 14,  /* the conntrack entry could not be written */
	FLG_REASON_DROP_POLICY_INGRESS = 15,    /* no policy entry allows the flow into the endpoint */
	FLG_REASON_DROP_POLICY_EGRESS = 16,     /* no policy entry allows the flow out of the endpoint */
	FLG_REASON_DROP_POLICY_DENY_INGRESS = 17, /* a deny entry matched the flow into the endpoint */
	FLG_REASON_DROP_POLICY_DENY_EGRESS = 18,  /* a deny entry matched the flow out of the endpoint */
	FLG_REASON_DROP_FRAG_NOT_FOUND = 19,    /* a later IPv4 fragment at an endpoint enforcing that direction
						 * whose first fragment was not seen: no ports to judge */
	FLG_REASON_DROP_POLICY_UNSUPPORTED_FAMILY = 20, /* IPv6 (but neighbour discovery) at an endpoint
							 * enforcing that direction: no IPv6 policy */
	FLG_REASON_MAX = 32,                    /* flg_metrics max_entries */
};

enum flg_event_type {
	FLG_EVENT_DROP = 1,  /* always sent */
	FLG_EVENT_TRACE = 2, /* only with FLG_CFG_F_TRACE_EVENTS */
};

struct flg_event {
	__u64 timestamp_ns; /* bpf_ktime_get_ns() */
	__u8 type;          /* enum flg_event_type */
	__u8 reason;        /* enum flg_reason */
	__u8 hook;          /* FLG_HOOK_* */
	__u8 proto;
	__u32 ifindex;
	__u32 len;          /* packet length */
	__be32 saddr;       /* as the packet arrived, before any rewrite */
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u32 backend_id;   /* 0 when no backend was chosen */
	__be16 rev_nat_index;
	__u16 pad;
	__u32 src_identity; /* policy drops: the sender's security identity; else 0 */
	__u32 dst_identity; /* policy drops: the receiver's security identity; else 0 */
};

#define FLG_HOOK_TC_INGRESS 1
#define FLG_HOOK_TC_EGRESS  2
#define FLG_HOOK_XDP        3

#endif /* FLAGELLA_EVENTS_H */
