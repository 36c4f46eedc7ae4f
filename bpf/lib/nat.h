/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rewriting addresses and ports with correct IPv4 and L4 checksums.
 *
 * tc: the kernel's csum-replace helpers, with BPF_F_PSEUDO_HDR for the
 * address (it is part of the L4 pseudo-header). They handle every skb
 * checksum state, including CHECKSUM_PARTIAL packets from veths, where the
 * L4 field holds only the pseudo-header sum and a port change must not touch
 * it. A UDP checksum of 0 (none) stays 0 (BPF_F_MARK_MANGLED_0).
 *
 * XDP: no such helpers and no skb; frames from a NIC carry full checksums,
 * so the incremental update of RFC 1624 is done by hand with bpf_csum_diff.
 */
#ifndef FLG_LIB_NAT_H
#define FLG_LIB_NAT_H

#include "defs.h"
#include "parse.h"

#define FLG_IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))

static __always_inline __u32 flg_l4_csum_off(const struct flg_pkt *pkt)
{
	return pkt->l4_off + (pkt->proto == IPPROTO_TCP ? offsetof(struct tcphdr, check)
							 : offsetof(struct udphdr, check));
}

/*
 * Rewrites the destination (dst = 1) or source (dst = 0) address and port of
 * a parsed packet on a tc hook. Returns 0, or a negative error from a helper.
 */
static __always_inline int flg_tc_nat4(struct __sk_buff *skb, const struct flg_pkt *pkt, int dst,
				       __be32 new_addr, __be16 new_port)
{
	__be32 old_addr = dst ? pkt->daddr : pkt->saddr;
	__be16 old_port = dst ? pkt->dport : pkt->sport;
	__u32 csum_off = flg_l4_csum_off(pkt) & 0xff;
	__u64 mangled = pkt->proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	int err;

	/* The address and port are written directly (the headers were
	 * parsed from the linear data, and the verifier makes the skb
	 * writable); only the checksum fields go through the helpers, which
	 * invalidate packet pointers, so they come last. */
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	struct tcphdr *ports = data + (pkt->l4_off & 0x7f); /* source/dest sit alike in TCP and UDP */
	if ((void *)(ip + 1) > data_end || (void *)ports + sizeof(struct udphdr) > data_end)
		return -1;
	if (dst) {
		ip->daddr = new_addr;
		ports->dest = new_port;
	} else {
		ip->saddr = new_addr;
		ports->source = new_port;
	}

	if (old_addr != new_addr) {
		err = bpf_l4_csum_replace(skb, csum_off, old_addr, new_addr,
					  BPF_F_PSEUDO_HDR | mangled | sizeof(new_addr));
		if (err)
			return err;
		err = bpf_l3_csum_replace(skb, FLG_IP_CSUM_OFF, old_addr, new_addr, sizeof(new_addr));
		if (err)
			return err;
	}
	if (old_port != new_port) {
		err = bpf_l4_csum_replace(skb, csum_off, old_port, new_port, mangled | sizeof(new_port));
		if (err)
			return err;
	}
	return 0;
}

static __always_inline __u16 flg_csum_fold(__u32 csum)
{
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	return (__u16)csum;
}

/* RFC 1624: HC' = ~(~HC + ~m + m'), with ~m + m' precomputed in diff. */
static __always_inline __u16 flg_csum_apply(__u16 check, __u32 diff)
{
	__u32 sum = (__u16)~check;
	sum += diff & 0xffff;
	sum += diff >> 16;
	return ~flg_csum_fold(sum);
}

/* Destination rewrite on XDP. Returns 0, or -1 when the headers moved out
 * of reach (cannot happen after a successful parse). */
static __always_inline int flg_xdp_dnat4(struct xdp_md *ctx, const struct flg_pkt *pkt,
					 __be32 new_addr, __be16 new_port)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	if ((void *)(ip + 1) > data_end)
		return -1;
	void *l4 = data + (pkt->l4_off & 0x7f);
	__u16 *l4_check;
	__be16 *dport;
	if (pkt->proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > data_end)
			return -1;
		l4_check = &tcp->check;
		dport = &tcp->dest;
	} else {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > data_end)
			return -1;
		l4_check = &udp->check;
		dport = &udp->dest;
	}

	__be32 old_addr = ip->daddr;
	__u32 addr_diff = flg_csum_fold(
		bpf_csum_diff(&old_addr, sizeof(old_addr), &new_addr, sizeof(new_addr), 0));
	ip->check = flg_csum_apply(ip->check, addr_diff);
	ip->daddr = new_addr;

	__u32 l4_diff = addr_diff + (__u16)~*dport + (__u16)new_port;
	__u16 check = *l4_check;
	if (pkt->proto == IPPROTO_UDP && check == 0) {
		/* no UDP checksum: stays none */
	} else {
		check = flg_csum_apply(check, l4_diff);
		if (pkt->proto == IPPROTO_UDP && check == 0)
			check = 0xffff;
		*l4_check = check;
	}
	*dport = new_port;
	return 0;
}

#endif /* FLG_LIB_NAT_H */
