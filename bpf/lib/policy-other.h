/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policy for the packets the service path leaves alone (parse.h says which):
 * ICMP, SCTP and every other IPv4 protocol, IPv4 fragments, IPv6, and broken
 * IPv4. Policy fails closed: at an endpoint enforcing a direction every IPv4
 * packet is judged, and what the datapath cannot judge is dropped with a
 * reason of its own. Kubernetes semantics: an entry without ports (L3-only,
 * allow-all) allows every protocol; entries with ports allow only theirs.
 *
 *   ICMP echo     a flow keyed by the identifier (icmp.h), looked up with
 *                 protocol 1 and port 0, so only port-less entries allow it;
 *                 tracked, so the reply passes the other side's checks. A
 *                 reply alone never opens a flow.
 *   ICMP errors   pass when the packet they quote belongs to a flow tracked
 *                 at this endpoint (an error about what it sent, or about
 *                 what it received); otherwise judged as other ICMP.
 *   other ICMP    judged by policy alone (protocol 1, port 0), not tracked.
 *   SCTP          ports as TCP and UDP (the same first 4 bytes), tracked as
 *                 UDP. Never load-balanced: SCTP services are not in the
 *                 datapath (its CRC32c could not be rewritten in place).
 *   other IPv4    protocol n, port 0: only port-less entries allow it;
 *                 tracked by addresses and protocol (ports 0), as Linux's
 *                 generic conntrack does, so replies pass like UDP's.
 *   fragments     the first carries the L4 header and is judged as if
 *                 whole; passing, it leaves its tuple ports in flg_frag4.
 *                 Later ones are judged with those ports (a conntrack hit in
 *                 practice). A later fragment whose first was not seen (out
 *                 of order, or its first was dropped) is dropped where
 *                 enforced: DROP_FRAG_NOT_FOUND.
 *   IPv6          no IPv6 policy: dropped where enforced
 *                 (DROP_POLICY_UNSUPPORTED_FAMILY), but neighbour discovery
 *                 (ICMPv6 133..137), without which the endpoint could not
 *                 reach its IPv6 neighbours at all.
 *   broken IPv4   dropped where enforced (DROP_MALFORMED); tc ingress drops
 *                 it before policy anyway.
 *   not IP        never judged (ARP must work).
 *
 * In a direction the endpoint does not enforce everything passes; flows are
 * tracked all the same, as for TCP and UDP.
 */
#ifndef FLG_LIB_POLICY_OTHER_H
#define FLG_LIB_POLICY_OTHER_H

#include <linux/ipv6.h>

#include "icmp.h"
#include "policy.h"

#define FLG_ICMPV6_ND_FIRST 133 /* router solicitation */
#define FLG_ICMPV6_ND_LAST  137 /* redirect */

/* Not a reason a packet ends with: "judge it", from the classifiers below. */
#define FLG_POLICY_UNDECIDED FLG_REASON_MAX

/* What policy judges of a packet beyond its addresses and protocol. */
struct flg_policy_view {
	__be16 port;  /* the port the lookup uses: 0 when the protocol has none */
	__u8 ct_mode; /* FLG_POLICY_CT_* */
};

static __always_inline int flg_policy_enforces(const struct endpoint_info *ep, int egress)
{
	return ep->flags & (egress ? FLG_EP_F_EGRESS_POLICY : FLG_EP_F_INGRESS_POLICY);
}

/* A drop policy takes without a lookup still names both sides in its event. */
static __always_inline __u32 flg_policy_refuse(__u32 reason, const struct endpoint_info *ep, int egress,
					       __u32 peer, struct flg_ids *ids)
{
	ids->src = egress ? ep->sec_identity : peer;
	ids->dst = egress ? peer : ep->sec_identity;
	return reason;
}

/* IPv6 is judged by family alone: everything but neighbour discovery is
 * dropped where enforced. The peer's identity is unknown (0): the ipcache
 * holds no IPv6 entries. */
static __always_inline __u32 flg_policy_ipv6(void *data, void *data_end, struct flg_pkt *pkt,
					     const struct endpoint_info *ep, int egress, struct flg_ids *ids)
{
	if (!flg_policy_enforces(ep, egress))
		return FLG_REASON_PASSED;
	struct ipv6hdr *ip6 = data + ETH_HLEN;
	if ((void *)(ip6 + 1) <= data_end) {
		pkt->proto = ip6->nexthdr;
		/* Neighbour discovery never carries extension headers (RFC 4861). */
		__u8 *icmp6_type = (void *)(ip6 + 1);
		if (ip6->nexthdr == IPPROTO_ICMPV6 && (void *)(icmp6_type + 1) <= data_end &&
		    *icmp6_type >= FLG_ICMPV6_ND_FIRST && *icmp6_type <= FLG_ICMPV6_ND_LAST)
			return FLG_REASON_PASSED;
	}
	return flg_policy_refuse(FLG_REASON_DROP_POLICY_UNSUPPORTED_FAMILY, ep, egress, 0, ids);
}

/*
 * An ICMP error at the endpoint belongs to one of its tracked flows. The
 * quoted packet went the other way: the endpoint sent it when the error
 * comes in, received it when the error goes out; so it must carry the
 * endpoint's address on that side (an error about another endpoint's flow
 * opens nothing here), and it is found as a flow or a reply of the opposite
 * direction. Matching entries are not refreshed: an error keeps no flow alive.
 */
static __always_inline int flg_policy_icmp_related(const struct flg_pkt *quoted, const struct flg_pkt *pkt,
						   int egress)
{
	if (egress ? quoted->daddr != pkt->saddr : quoted->saddr != pkt->daddr)
		return 0;
	__u32 now = flg_now_seconds();
	struct ct4_key key = {
		.saddr = quoted->saddr,
		.daddr = quoted->daddr,
		.sport = quoted->sport,
		.dport = quoted->dport,
		.proto = quoted->proto,
		.flags = egress ? FLG_CT_KEY_INGRESS : FLG_CT_KEY_EGRESS,
	};
	struct ct4_entry *flow = bpf_map_lookup_elem(&flg_ct4, &key);
	if (flow && flow->lifetime > now)
		return 1;
	struct ct4_key reversed = {
		.saddr = quoted->daddr,
		.daddr = quoted->saddr,
		.sport = quoted->dport,
		.dport = quoted->sport,
		.proto = quoted->proto,
		.flags = egress ? FLG_CT_KEY_EGRESS : FLG_CT_KEY_INGRESS,
	};
	flow = bpf_map_lookup_elem(&flg_ct4, &reversed);
	return flow && flow->lifetime > now;
}

/*
 * ICMP at `icmp` (the header is in bounds): the tuple ports and view, or
 * FLG_REASON_PASSED for an error about a tracked flow where enforced.
 */
static __always_inline __u32 flg_policy_icmp_view(struct icmphdr *icmp, void *data_end, struct flg_pkt *pkt,
						  const struct endpoint_info *ep, int egress,
						  struct flg_policy_view *view)
{
	view->port = 0;
	if (icmp->type == ICMP_ECHO) {
		view->ct_mode = FLG_POLICY_CT_TRACK;
	} else if (icmp->type == ICMP_ECHOREPLY) {
		view->ct_mode = FLG_POLICY_CT_LOOKUP;
	} else {
		view->ct_mode = FLG_POLICY_CT_NONE;
		if (flg_icmp_is_error(icmp->type) && flg_policy_enforces(ep, egress)) {
			struct flg_pkt quoted = {};
			if (flg_icmp_quoted_tuple(icmp + 1, data_end, &quoted) == 0 &&
			    flg_policy_icmp_related(&quoted, pkt, egress))
				return FLG_REASON_PASSED;
		}
	}
	flg_icmp_echo_ports(icmp, &pkt->sport, &pkt->dport);
	return FLG_POLICY_UNDECIDED;
}

/* The SCTP common header: ports, verification tag, checksum. */
#define FLG_SCTP_COMMON_HDR_LEN 12

/*
 * An IPv4 packet that carries its L4 header (unfragmented, or a first
 * fragment): fills pkt's tuple ports and TCP flags and *view. Returns
 * FLG_POLICY_UNDECIDED to judge it, or a final reason: a truncated header
 * (DROP_MALFORMED where enforced), a related ICMP error (PASSED). Each
 * protocol checks its own constant size: the verifier loses a bound kept
 * in a variable.
 */
static __always_inline __u32 flg_policy_l4_view(void *data_end, const struct iphdr *ip, struct flg_pkt *pkt,
						const struct endpoint_info *ep, int egress,
						struct flg_policy_view *view)
{
	__u32 ihl_len = ip->ihl * 4;
	__u32 tot_len = bpf_ntohs(ip->tot_len);
	__u8 *l4 = (void *)ip + ihl_len;
	/* What the IP header says the L4 part holds (the data may be padded). */
	__u32 room = tot_len > ihl_len ? tot_len - ihl_len : 0;

	pkt->sport = 0;
	pkt->dport = 0;
	pkt->tcp_flags = 0;
	view->port = 0;
	view->ct_mode = FLG_POLICY_CT_TRACK;
	switch (pkt->proto) {
	case IPPROTO_TCP: /* first fragments only: whole TCP/UDP packets are parse.h's */
		if ((void *)(l4 + sizeof(struct tcphdr)) > data_end || room < sizeof(struct tcphdr))
			goto cut;
		pkt->tcp_flags = l4[13];
		break;
	case IPPROTO_UDP:
		if ((void *)(l4 + sizeof(struct udphdr)) > data_end || room < sizeof(struct udphdr))
			goto cut;
		break;
	case IPPROTO_SCTP:
		if ((void *)(l4 + FLG_SCTP_COMMON_HDR_LEN) > data_end || room < FLG_SCTP_COMMON_HDR_LEN)
			goto cut;
		break;
	case IPPROTO_ICMP:
		if ((void *)(l4 + sizeof(struct icmphdr)) > data_end || room < sizeof(struct icmphdr))
			goto cut;
		return flg_policy_icmp_view((struct icmphdr *)l4, data_end, pkt, ep, egress, view);
	default:
		return FLG_POLICY_UNDECIDED; /* no ports: tracked and judged by protocol */
	}
	/* TCP, UDP and SCTP headers all lead with the two ports. */
	pkt->sport = ((__be16 *)l4)[0];
	pkt->dport = ((__be16 *)l4)[1];
	view->port = pkt->dport;
	return FLG_POLICY_UNDECIDED;
cut:
	return flg_policy_enforces(ep, egress) ? FLG_REASON_DROP_MALFORMED : FLG_REASON_PASSED;
}

/* A later fragment: the ports its first fragment left, or a drop where
 * enforced when none did (or only long ago: another datagram's id). */
static __always_inline __u32 flg_policy_later_fragment_view(const struct frag4_key *fkey, struct flg_pkt *pkt,
							    const struct endpoint_info *ep, int egress,
							    struct flg_policy_view *view, struct flg_ids *ids)
{
	struct frag4_entry *first = bpf_map_lookup_elem(&flg_frag4, fkey);
	if (!first || flg_now_seconds() - first->created > FLG_FRAG_TIMEOUT_S) {
		if (!flg_policy_enforces(ep, egress))
			return FLG_REASON_PASSED;
		__u32 peer = flg_ipcache_identity(egress ? pkt->daddr : pkt->saddr);
		return flg_policy_refuse(FLG_REASON_DROP_FRAG_NOT_FOUND, ep, egress, peer, ids);
	}
	pkt->sport = first->sport;
	pkt->dport = first->dport;
	pkt->tcp_flags = 0;
	int ported = pkt->proto == IPPROTO_TCP || pkt->proto == IPPROTO_UDP || pkt->proto == IPPROTO_SCTP;
	view->port = ported ? pkt->dport : 0;
	/* Judged as its first fragment was, but never opening a flow: the
	 * first did that if it could. */
	view->ct_mode = FLG_POLICY_CT_LOOKUP;
	return FLG_POLICY_UNDECIDED;
}

/*
 * The verdict on a packet parse.h did not hand to the service path
 * (`parsed`: FLG_PARSE_IPV4_OTHER, FRAGMENT, IPV6 or MALFORMED) at endpoint
 * `ep` in `direction`; `data`/`data_end` are fresh packet pointers. Fills
 * pkt's ports and, for IPv6, its protocol, for the event. Returns
 * FLG_REASON_PASSED or a drop reason; *ids is filled for drops.
 */
static __always_inline __u32 flg_policy_check_other(const struct flg_config *cfg, const struct endpoint_info *ep,
						    __u8 direction, void *data, void *data_end, int parsed,
						    struct flg_pkt *pkt, struct flg_ids *ids)
{
	int egress = direction == FLG_POLICY_EGRESS;
	if (parsed == FLG_PARSE_IPV6)
		return flg_policy_ipv6(data, data_end, pkt, ep, egress, ids);

	struct iphdr *ip = data + ETH_HLEN;
	if (parsed == FLG_PARSE_MALFORMED || (void *)(ip + 1) > data_end || ip->ihl < 5)
		return flg_policy_enforces(ep, egress) ? FLG_REASON_DROP_MALFORMED : FLG_REASON_PASSED;

	struct flg_policy_view view = {};
	struct frag4_key fkey = {
		.saddr = ip->saddr,
		.daddr = ip->daddr,
		.id = ip->id,
		.proto = ip->protocol,
	};
	int first_fragment = 0;
	__u32 verdict;
	if (parsed == FLG_PARSE_FRAGMENT && (ip->frag_off & bpf_htons(IP_OFFSET))) {
		verdict = flg_policy_later_fragment_view(&fkey, pkt, ep, egress, &view, ids);
	} else {
		first_fragment = parsed == FLG_PARSE_FRAGMENT;
		verdict = flg_policy_l4_view(data_end, ip, pkt, ep, egress, &view);
	}
	if (verdict != FLG_POLICY_UNDECIDED)
		return verdict;

	struct flg_tuple tuple = { pkt->saddr, pkt->daddr, pkt->sport, pkt->dport };
	verdict = flg_policy_check(cfg, ep, direction, &tuple, pkt, egress ? pkt->daddr : pkt->saddr, view.port,
				   view.ct_mode, ids);
	if (first_fragment && verdict == FLG_REASON_PASSED) {
		/* A full LRU evicts; a failed write costs the later fragments. */
		struct frag4_entry entry = {
			.sport = pkt->sport,
			.dport = pkt->dport,
			.created = flg_now_seconds(),
		};
		bpf_map_update_elem(&flg_frag4, &fkey, &entry, BPF_ANY);
	}
	return verdict;
}

#endif /* FLG_LIB_POLICY_OTHER_H */
