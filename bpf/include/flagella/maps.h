/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every struct that crosses the user/kernel boundary through a map, defined
 * once. The TypeScript codecs are generated from the BTF of the compiled
 * object (scripts/gen-layouts.ts), so nothing here is repeated by hand on the
 * other side. Network-order fields are declared __be16/__be32: the generator
 * reads byte order from those typedefs.
 *
 * Map names (flg_*) are a contract with the agent: they are pinned by name
 * under the pin root, so renaming one orphans the pinned state.
 */
#ifndef FLAGELLA_MAPS_H
#define FLAGELLA_MAPS_H

#include <linux/types.h>

/* ---- Services: flg_lb4_services, HASH lb4_key -> lb4_service ---------- */

#define FLG_LB_SCOPE_EXTERNAL 0
#define FLG_LB_SCOPE_INTERNAL 1

/* Protocol 0 in a service key means "any": the wildcard entry {vip, 0, ANY}. */
#define FLG_PROTO_ANY 0

/* The Cilium lb4_key layout: 12 bytes. */
struct lb4_key {
	__be32 address;     /* service VIP */
	__be16 dport;       /* L4 port; 0 = wildcard */
	__u16 backend_slot; /* 0 = master entry; 1..n = backend slots */
	__u8 proto;         /* IPPROTO_TCP/UDP, or FLG_PROTO_ANY */
	__u8 scope;         /* FLG_LB_SCOPE_* */
	__u8 pad[2];
};

/* Algorithm values in the upper 8 bits of lb4_service.u (master entry). */
#define FLG_LB_ALG_DEFAULT 0 /* use flg_config.default_lb_algorithm */
#define FLG_LB_ALG_RANDOM  1
#define FLG_LB_ALG_MAGLEV  2
#define FLG_LB_ALG_SHIFT   24
#define FLG_LB_AFFINITY_TIMEOUT_MASK 0x00ffffff

/*
 * The Cilium lb4_service layout: 12 bytes. The first word is one u32 whose
 * meaning depends on the slot: a backend id in slots 1..n, and on the master
 * (slot 0) the LB algorithm in the upper 8 bits and the session-affinity
 * timeout in seconds in the lower 24 (the proxy port with the L7 flag).
 * It is a plain field rather than a C union so the generated codec has one
 * obvious name for it.
 */
struct lb4_service {
	__u32 backend_id;     /* slot > 0: backend id; master: algorithm << 24 | affinity timeout */
	__u16 count;          /* master: number of selectable (active) slots */
	__be16 rev_nat_index; /* service id, network order */
	__u8 flags;           /* low byte of the 16-bit flag set (FLG_SVC_F_*) */
	__u8 flags2;          /* high byte of the 16-bit flag set (FLG_SVC_F2_*) */
	__u16 qcount;         /* master: trailing inactive slots after the active ones */
};

/* Service flags, low byte (lb4_service.flags): bits 0..7 of the Cilium set. */
#define FLG_SVC_F_EXTERNAL_IP     (1 << 0)
#define FLG_SVC_F_NODEPORT        (1 << 1)
#define FLG_SVC_F_EXT_LOCAL_SCOPE (1 << 2)
#define FLG_SVC_F_HOSTPORT        (1 << 3)
#define FLG_SVC_F_AFFINITY        (1 << 4)
#define FLG_SVC_F_LOADBALANCER    (1 << 5)
#define FLG_SVC_F_ROUTABLE        (1 << 6)
#define FLG_SVC_F_SOURCE_RANGE    (1 << 7)
/* Service flags, high byte (lb4_service.flags2): bits 8..15 shifted down by 8. */
#define FLG_SVC_F2_LOCALREDIRECT   (1 << 0)
#define FLG_SVC_F2_NAT_46X64       (1 << 1)
#define FLG_SVC_F2_L7_LOADBALANCER (1 << 2)
#define FLG_SVC_F2_LOOPBACK        (1 << 3)
#define FLG_SVC_F2_INT_LOCAL_SCOPE (1 << 4)
#define FLG_SVC_F2_TWO_SCOPES      (1 << 5)
/* On a master: deny when the source IS in the ranges. On a slot: quarantined. */
#define FLG_SVC_F2_SOURCE_RANGE_DENY (1 << 6)
#define FLG_SVC_F2_QUARANTINED       (1 << 6)
#define FLG_SVC_F2_FWD_MODE_DSR      (1 << 7)

/* ---- Backends: flg_lb4_backends, HASH __u32 backend id -> lb4_backend -- */

#define FLG_BE_STATE_ACTIVE      0
#define FLG_BE_STATE_TERMINATING 1
#define FLG_BE_STATE_QUARANTINED 2
#define FLG_BE_STATE_MAINTENANCE 3

struct lb4_backend {
	__be32 address;
	__be16 port;
	__u8 proto;
	__u8 flags;      /* FLG_BE_STATE_* */
	__u16 cluster_id;
	__u8 zone;
	__u8 pad;
};

/* ---- Reverse NAT: flg_lb4_reverse_nat, HASH __be16 rev-NAT index -> ---- */

struct lb4_reverse_nat {
	__be32 address;
	__be16 port;
} __attribute__((packed));

/* ---- Session affinity ------------------------------------------------- */

/* flg_lb4_affinity, LRU_HASH: the client a sticky backend was chosen for. */
struct lb4_affinity_key {
	/* Cilium's union of client IPv4 and 64-bit netns cookie; only the IPv4
	 * form is used here (no socket LB), so the upper half stays zero. */
	__be32 client_ip;
	__u32 client_pad;
	__be16 rev_nat_id;
	__u8 netns_cookie; /* bit 0: client_id is a netns cookie (socket LB); never set here */
	__u8 pad1;
	__u32 pad2;
} __attribute__((packed));

struct lb_affinity_val {
	__u64 last_used; /* monotonic seconds */
	__u32 backend_id;
	__u32 pad;
} __attribute__((packed));

/* flg_lb_affinity_match, HASH -> __u8: (backend, service) pairs that may stick. */
struct lb_affinity_match {
	__u32 backend_id;
	__be16 rev_nat_id;
	__u16 pad;
} __attribute__((packed));

/* ---- Source ranges: flg_lb4_source_range, LPM_TRIE -> __u8 ------------- */

/* The control plane writes prefixlen = 32 + CIDR bits; lookups use 64. */
struct lb4_src_range_key {
	__u32 prefixlen;
	__be16 rev_nat_id;
	__u16 pad;
	__be32 addr;
};

/* ---- Maglev: flg_lb4_maglev, HASH_OF_MAPS __be16 rev-NAT -> ARRAY ------ */
/*
 * Deviation from Cilium: Cilium's inner map has one entry whose value is the
 * whole u32[M] table, which fixes M at compile time. Here the inner map is an
 * ARRAY of M entries (key: table index u32, value: backend id u32), declared
 * BPF_F_INNER_MAP so inner maps of any size fit the outer map, and M comes
 * from flg_config.maglev_table_size. One object serves every M.
 */

/* ---- Connection tracking: flg_ct4, LRU_HASH ct4_key -> ct4_entry -------- */

/*
 * Two entries per load-balanced flow:
 *   SERVICE: keyed by the packet as the client sent it (client -> VIP:port),
 *            remembers the chosen backend so the flow keeps it;
 *   REPLY:   keyed by the reply as the backend sends it (backend -> client),
 *            carries the rev-NAT index that rewrites the reply to VIP:port.
 * and, while policy is active (flg_policy_state), one entry per flow and
 * tracked endpoint side, as Cilium's CT_EGRESS / CT_INGRESS entries:
 *   EGRESS:  a flow an endpoint opened, keyed as the endpoint sent it
 *            (before DNAT: client -> VIP:port for a service);
 *   INGRESS: a flow into an endpoint, keyed as the endpoint received it.
 * A packet whose reversed tuple finds the other side's entry is a reply.
 * Fields are named for the packet the key matches.
 */
#define FLG_CT_KEY_SERVICE (1 << 0)
#define FLG_CT_KEY_REPLY   (1 << 1)
#define FLG_CT_KEY_EGRESS  (1 << 2)
#define FLG_CT_KEY_INGRESS (1 << 3)

struct ct4_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 flags; /* FLG_CT_KEY_* */
	__u16 pad;
};

/* ct4_entry.flags. Bits 8..15 belong to policy. */
#define FLG_CT_F_SEEN_REPLY      (1 << 0) /* a reply went through (REPLY, EGRESS, INGRESS entries) */
#define FLG_CT_F_CLOSING         (1 << 1) /* FIN or RST seen: short lifetime */
#define FLG_CT_F_POLICY_ENFORCED (1 << 8) /* EGRESS/INGRESS: the flow passed a policy lookup (else tracked only) */

/* ct4_entry.policy_match: which policy entry let the flow in (reference §8.6). */
#define FLG_POLICY_MATCH_NONE       0 /* direction not enforced: tracked for its replies only */
#define FLG_POLICY_MATCH_L3_ONLY    1 /* peer identity, any protocol and port */
#define FLG_POLICY_MATCH_L3_PROTO   2 /* peer identity and protocol, any port */
#define FLG_POLICY_MATCH_L3_L4      3 /* peer identity, protocol and port (or port range) */
#define FLG_POLICY_MATCH_ALL        4 /* any peer, any protocol and port */
#define FLG_POLICY_MATCH_PROTO_ONLY 5 /* any peer, protocol, any port */
#define FLG_POLICY_MATCH_L4_ONLY    6 /* any peer, protocol and port (or port range) */

struct ct4_entry {
	__u32 backend_id;     /* SERVICE/REPLY: backend chosen for the flow */
	__u32 lifetime;       /* expiry, monotonic seconds */
	__be16 rev_nat_index; /* SERVICE/REPLY: service id, network order */
	__u16 flags;          /* FLG_CT_F_* */
	__u32 peer_identity;  /* EGRESS/INGRESS: security identity of the other side */
	__u8 policy_match;    /* EGRESS/INGRESS: FLG_POLICY_MATCH_* */
	__u8 pad[3];
	__u32 created;        /* monotonic seconds, for inspection */
};

/* ---- IPv4 fragments: flg_frag4, LRU_HASH frag4_key -> frag4_entry ---- */
/*
 * Only later fragments of a datagram lack the L4 header, so policy remembers
 * what the first one carried, per datagram: written when a first fragment
 * passes an endpoint's check (policy active), read by the later ones. The
 * LRU evicts; an entry older than FLG_FRAG_TIMEOUT_S (Linux's ipfrag_time)
 * is taken for another datagram that reused the IP id, and ignored.
 */
#define FLG_FRAG_TIMEOUT_S 30

struct frag4_key {
	__be32 saddr;
	__be32 daddr;
	__be16 id;  /* IP identification */
	__u8 proto;
	__u8 pad;
};

struct frag4_entry {
	__be16 sport;  /* the first fragment's policy tuple ports (ICMP echo: the identifier) */
	__be16 dport;
	__u32 created; /* monotonic seconds */
};

/* ---- Counters: flg_metrics, PERCPU_ARRAY reason -> flg_metrics_value --- */

struct flg_metrics_value {
	__u64 packets;
	__u64 bytes;
};

/* ---- Network policy ------------------------------------------------- */

/* Reserved security identities (Cilium's numbers). */
#define FLG_IDENTITY_ANY   0 /* in a policy key: any peer (the L4-only lookup) */
#define FLG_IDENTITY_HOST  1
#define FLG_IDENTITY_WORLD 2 /* what an address no ipcache prefix covers resolves to */

/* flg_ipcache, LPM_TRIE ipcache_key -> remote_endpoint_info (reference §7.10). */
#define FLG_IPCACHE_FAMILY_IPV4 1
#define FLG_IPCACHE_FAMILY_IPV6 2
#define FLG_IPCACHE_STATIC_PREFIX 32 /* cluster_id, pad1, family */

struct ipcache_key {
	__u32 prefixlen; /* 32 + IP prefix bits */
	__u16 cluster_id;
	__u8 pad1;
	__u8 family;     /* FLG_IPCACHE_FAMILY_* */
	__be32 ip[4];    /* IPv4 in ip[0], rest zero */
} __attribute__((packed));

struct remote_endpoint_info {
	__u32 sec_identity;
	__be32 tunnel_endpoint[4];
	__u16 pad;
	__u8 key;   /* encryption key index */
	__u8 flags; /* bit 0 skip_tunnel, 1 has_tunnel_ep, 2 ipv6_tunnel_ep, 3 remote_cluster */
};

/*
 * flg_endpoints, HASH __u32 host-side ifindex -> endpoint_info: every local
 * endpoint, enforced or not (service lookups use it to tell east-west
 * traffic). The policy map of an endpoint is written before its entry here
 * says a direction is enforced.
 */
#define FLG_EP_F_INGRESS_POLICY (1 << 0) /* enforce ingress policy into this endpoint */
#define FLG_EP_F_EGRESS_POLICY  (1 << 1) /* enforce egress policy from this endpoint */

struct endpoint_info {
	__u32 endpoint_id;  /* key of the endpoint's policy map in flg_policy */
	__u32 sec_identity;
	__u32 flags;        /* FLG_EP_F_* */
	__u32 pad;
};

/*
 * flg_policy_state, ARRAY of 1: read first on every packet. While no
 * endpoint enforces anything the datapath does no policy work at all (no
 * endpoint lookup, no tracking); once one does, every endpoint's flows are
 * tracked so replies pass whatever each side enforces.
 */
struct flg_policy_state {
	__u32 enforcing_endpoints; /* endpoints with a direction enforced; 0 = policy off */
	__u32 pad;
};

/* flg_policy, HASH_OF_MAPS __u32 endpoint id -> LPM_TRIE policy_key -> policy_entry. */
#define FLG_POLICY_INGRESS 0
#define FLG_POLICY_EGRESS  1
#define FLG_POLICY_FULL_PREFIX 64 /* 8 * (sizeof(struct policy_key) - 4) */
#define FLG_POLICY_MAX_PRECEDENCE 0xffffffffu /* reserved for deny entries */

struct policy_key {
	__u32 prefixlen;  /* 40 + 8 with a protocol + port prefix bits */
	__u32 sec_label;  /* remote identity; 0 = any */
	__u8 egress;      /* bit 0: FLG_POLICY_EGRESS; 7 bits pad */
	__u8 protocol;
	__be16 dport;
};

/* policy_entry.flags: bit 0 deny, bits 1..2 reserved, bits 3..7 lpm_prefix_length. */
#define FLG_POLICY_F_DENY (1 << 0)
#define FLG_POLICY_LPM_PREFIX_SHIFT 3
/* policy_entry.auth: bits 0..6 auth type, bit 7 has_explicit_auth_type. */
#define FLG_POLICY_AUTH_EXPLICIT (1 << 7)

struct policy_entry {
	__be16 proxy_port; /* 0 = no L7 redirect */
	__u8 flags;
	__u8 auth;
	__u32 precedence;  /* higher wins; FLG_POLICY_MAX_PRECEDENCE for deny */
	__u32 cookie;
};

#endif /* FLAGELLA_MAPS_H */
