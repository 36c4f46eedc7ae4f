/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ICMP as connection tracking sees it, read with direct packet access.
 *
 * Echo request and reply are one flow keyed by the echo identifier, as Linux
 * and Cilium key them: the request carries it as the source port (port 0 as
 * the destination), the reply as the destination port, so the reversed tuple
 * of a reply is its request's.
 *
 * Errors (destination unreachable, fragmentation needed, time exceeded,
 * parameter problem) quote the IP header and the first 8 bytes of the packet
 * that caused them (RFC 792): enough for the ports of TCP, UDP and SCTP and
 * for an echo's identifier, so the quoted packet's tuple can be rebuilt.
 */
#ifndef FLG_LIB_ICMP_H
#define FLG_LIB_ICMP_H

#include "defs.h"
#include "parse.h"

/* <linux/icmp.h> drags in libc socket headers that do not build for BPF. */
#define ICMP_ECHOREPLY      0
#define ICMP_DEST_UNREACH   3
#define ICMP_ECHO           8
#define ICMP_TIME_EXCEEDED  11
#define ICMP_PARAMETERPROB  12

struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;       /* echo request and reply; other types use these 4 bytes otherwise */
	__be16 sequence;
};

/* Bytes of its L4 header an ICMP error quotes at least (RFC 792). */
#define FLG_ICMP_QUOTED_L4 8

/* The largest header span an ICMP error's check reads: Ethernet, IPv4 with
 * options, the ICMP header, the quoted IPv4 header with options, 8 bytes. */
#define FLG_MAX_ICMP_ERROR_HDR_LEN (ETH_HLEN + 60 + sizeof(struct icmphdr) + 60 + FLG_ICMP_QUOTED_L4)

static __always_inline int flg_icmp_is_error(__u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETERPROB;
}

/* An echo's tuple ports: 1 with sport and dport set for a request or a reply,
 * 0 for any other type. */
static __always_inline int flg_icmp_echo_ports(const struct icmphdr *icmp, __be16 *sport, __be16 *dport)
{
	if (icmp->type == ICMP_ECHO) {
		*sport = icmp->id;
		*dport = 0;
		return 1;
	}
	if (icmp->type == ICMP_ECHOREPLY) {
		*sport = 0;
		*dport = icmp->id;
		return 1;
	}
	return 0;
}

/*
 * The tuple of the packet an ICMP error quotes, whose IPv4 header starts at
 * `quoted_ip`: addresses, protocol and the ports its flow is tracked by
 * (TCP, UDP, SCTP ports; an echo's identifier; 0 for other protocols).
 * Returns 0, or -1 when the quote is truncated, is not IPv4, is a later
 * fragment (no L4 header), or quotes ICMP other than echo (errors about
 * errors belong to no flow).
 */
static __always_inline int flg_icmp_quoted_tuple(void *quoted_ip, void *data_end, struct flg_pkt *quoted)
{
	struct iphdr *ip = quoted_ip;
	if ((void *)(ip + 1) > data_end || ip->version != 4 || ip->ihl < 5)
		return -1;
	if (ip->frag_off & bpf_htons(IP_OFFSET))
		return -1;
	__u8 *l4 = quoted_ip + ip->ihl * 4;
	if ((void *)(l4 + FLG_ICMP_QUOTED_L4) > data_end)
		return -1;
	quoted->saddr = ip->saddr;
	quoted->daddr = ip->daddr;
	quoted->proto = ip->protocol;
	switch (ip->protocol) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_SCTP:
		/* Source and destination ports lead all three headers. */
		quoted->sport = ((__be16 *)l4)[0];
		quoted->dport = ((__be16 *)l4)[1];
		return 0;
	case IPPROTO_ICMP:
		return flg_icmp_echo_ports((struct icmphdr *)l4, &quoted->sport, &quoted->dport) ? 0 : -1;
	default:
		quoted->sport = 0;
		quoted->dport = 0;
		return 0;
	}
}

#endif /* FLG_LIB_ICMP_H */
