/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsing Ethernet / IPv4 / TCP|UDP with direct packet access. Every read is
 * bounds-checked against data_end, so truncated and malformed packets are
 * classified, never read out of bounds.
 */
#ifndef FLG_LIB_PARSE_H
#define FLG_LIB_PARSE_H

#include "defs.h"

/* What the datapath knows about a packet after parsing. */
struct flg_pkt {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 tcp_flags; /* 0 for UDP */
	__u16 l4_off;   /* offset of the L4 header from the start of the packet */
	__u32 len;
};

enum flg_parse {
	FLG_PARSE_OK = 0,       /* IPv4 TCP/UDP, unfragmented, headers complete: load-balanced */
	FLG_PARSE_OTHER,        /* not IP, or too short to tell: not ours */
	FLG_PARSE_FRAGMENT,     /* IPv4 fragment (any protocol): addresses and proto filled */
	FLG_PARSE_MALFORMED,    /* IPv4 claimed but headers broken or truncated */
	FLG_PARSE_IPV4_OTHER,   /* IPv4 neither TCP nor UDP, unfragmented: addresses, proto, l4_off filled */
	FLG_PARSE_IPV6,         /* IPv6: nothing filled */
};

/* The largest header span the parser reads: Ethernet + IPv4 with options + TCP. */
#define FLG_MAX_HDR_LEN (ETH_HLEN + 60 + sizeof(struct tcphdr))

/*
 * Classifies a packet and, for IPv4 TCP/UDP, fills *pkt. Only the IPv4
 * header is read for anything else: what policy needs beyond it (ICMP,
 * SCTP, fragments, IPv6) is read by policy-other.h, and only at an endpoint
 * that is judged, so pass-through traffic pays nothing for it.
 */
static __always_inline int flg_parse(void *data, void *data_end, struct flg_pkt *pkt)
{
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return FLG_PARSE_OTHER; /* too short to tell what it is */
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return eth->h_proto == bpf_htons(ETH_P_IPV6) ? FLG_PARSE_IPV6 : FLG_PARSE_OTHER;

	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end)
		return FLG_PARSE_MALFORMED;
	if (ip->version != 4 || ip->ihl < 5)
		return FLG_PARSE_MALFORMED;
	__u32 ihl_len = ip->ihl * 4;
	__u32 tot_len = bpf_ntohs(ip->tot_len);
	if (tot_len < ihl_len || (void *)ip + ihl_len > data_end)
		return FLG_PARSE_MALFORMED;

	pkt->saddr = ip->saddr;
	pkt->daddr = ip->daddr;
	pkt->proto = ip->protocol;
	pkt->l4_off = ETH_HLEN + ihl_len;
	if (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return FLG_PARSE_FRAGMENT;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		return FLG_PARSE_IPV4_OTHER;

	void *l4 = (void *)ip + ihl_len;
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end || tot_len < ihl_len + sizeof(*tcp))
			return FLG_PARSE_MALFORMED;
		pkt->sport = tcp->source;
		pkt->dport = tcp->dest;
		pkt->tcp_flags = ((__u8 *)tcp)[13];
	} else {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > data_end || tot_len < ihl_len + sizeof(*udp))
			return FLG_PARSE_MALFORMED;
		pkt->sport = udp->source;
		pkt->dport = udp->dest;
		pkt->tcp_flags = 0;
	}
	return FLG_PARSE_OK;
}

static __always_inline int flg_is_syn(const struct flg_pkt *pkt)
{
	return pkt->proto == IPPROTO_TCP &&
	       (pkt->tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;
}

#endif /* FLG_LIB_PARSE_H */
