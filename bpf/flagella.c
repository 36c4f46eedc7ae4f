// SPDX-License-Identifier: Apache-2.0
/*
 * The flagella datapath: one object, loaded once, driven only by map state.
 *
 *   flg_tc_ingress  tcx ingress on host-side veths and devices: service DNAT
 *                   (forward path), reverse NAT of backend replies, and the
 *                   egress policy of the endpoint behind a host-side veth.
 *   flg_tc_egress   tcx egress: reverse NAT for replies leaving a device whose
 *                   ingress did the DNAT (idempotent with the ingress one),
 *                   and the ingress policy of the endpoint behind it.
 *   flg_xdp         the forward path for physical NICs; replies go through
 *                   flg_tc_egress. Not for veths (it costs the peer its TSO).
 *
 * Programs sit in SEC("tc"): libbpf 1.1 knows no tcx sections, and a
 * SCHED_CLS program attaches as tcx through BPF_LINK_CREATE all the same.
 */
#include "lib/defs.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/ct.h"
#include "lib/lb.h"
#include "lib/nat.h"
#include "lib/metrics.h"
#include "lib/policy.h"
#include "lib/policy-other.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline const struct flg_config *flg_config_get(void)
{
	__u32 zero = 0;
	const struct flg_config *cfg = bpf_map_lookup_elem(&flg_config, &zero);
	if (!cfg || !(cfg->flags & FLG_CFG_F_ENABLED))
		return NULL;
	return cfg;
}

/* tc sees the linear part of the skb only; pull the first `span` bytes in
 * when a (rare) non-linear skb has them in fragments. */
static __always_inline void flg_tc_linearize(struct __sk_buff *skb, __u32 span)
{
	__u32 linear = skb->data_end - skb->data;
	if (linear < span && skb->len > linear)
		bpf_skb_pull_data(skb, skb->len < span ? skb->len : span);
}

/* Maps a parse outcome that is not FLG_PARSE_OK to its reason. */
static __always_inline __u32 flg_parse_reason(int parsed)
{
	if (parsed == FLG_PARSE_FRAGMENT)
		return FLG_REASON_PASSED_FRAGMENT;
	if (parsed == FLG_PARSE_MALFORMED)
		return FLG_REASON_DROP_MALFORMED;
	return FLG_REASON_PASSED;
}

/* Whether policy judges a packet parse.h did not hand to the service path. */
static __always_inline int flg_parse_judged(int parsed)
{
	return parsed == FLG_PARSE_IPV4_OTHER || parsed == FLG_PARSE_FRAGMENT || parsed == FLG_PARSE_IPV6 ||
	       parsed == FLG_PARSE_MALFORMED;
}

/* Policy at the endpoint behind this tc hook for a packet the service path
 * did not take: FLG_REASON_PASSED or a drop reason (policy-other.h). */
static __always_inline __u32 flg_tc_policy_other(struct __sk_buff *skb, const struct flg_config *cfg,
						 const struct endpoint_info *ep, __u8 direction, int parsed,
						 struct flg_pkt *pkt, struct flg_ids *ids)
{
	/* An ICMP error's quote lies past FLG_MAX_HDR_LEN; pulling moves
	 * the data, so the pointers are read after it. */
	if (pkt->proto == IPPROTO_ICMP && parsed == FLG_PARSE_IPV4_OTHER)
		flg_tc_linearize(skb, FLG_MAX_ICMP_ERROR_HDR_LEN);
	return flg_policy_check_other(cfg, ep, direction, (void *)(long)skb->data, (void *)(long)skb->data_end,
				      parsed, pkt, ids);
}

static __always_inline int flg_tc_verdict(__u32 reason)
{
	return reason >= FLG_REASON_DROP_FIRST ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("tc")
int flg_tc_ingress(struct __sk_buff *skb)
{
	const struct flg_config *cfg = flg_config_get();
	if (!cfg)
		return TC_ACT_OK;

	flg_tc_linearize(skb, FLG_MAX_HDR_LEN);
	struct flg_pkt pkt = { .len = skb->len };
	struct flg_lb_target t = {};
	struct flg_ids ids = {};
	int parsed = flg_parse((void *)(long)skb->data, (void *)(long)skb->data_end, &pkt);
	__u32 reason;

	if (parsed != FLG_PARSE_OK) {
		reason = flg_parse_reason(parsed);
		if (reason < FLG_REASON_DROP_FIRST && flg_parse_judged(parsed)) {
			/* From an endpoint: its egress policy fails closed. */
			const struct endpoint_info *ep = flg_policy_endpoint(skb->ifindex);
			if (ep) {
				__u32 verdict = flg_tc_policy_other(skb, cfg, ep, FLG_POLICY_EGRESS, parsed, &pkt, &ids);
				if (verdict != FLG_REASON_PASSED)
					reason = verdict;
			}
		}
		goto out;
	}

	reason = flg_lb4_forward(cfg, &pkt, &t, skb->ifindex);
	__be32 peer_addr = pkt.daddr;
	__be16 peer_port = pkt.dport;
	if (reason == FLG_REASON_FORWARDED) {
		if (flg_tc_nat4(skb, &pkt, 1, t.addr, t.port)) {
			reason = FLG_REASON_DROP_CSUM_ERROR;
			goto out;
		}
		/* Egress policy judges the backend, as in Cilium. */
		peer_addr = t.addr;
		peer_port = t.port;
	} else if (reason == FLG_REASON_PASSED && flg_lb4_reverse(cfg, &pkt, &t)) {
		reason = flg_tc_nat4(skb, &pkt, 0, t.addr, t.port) ? FLG_REASON_DROP_CSUM_ERROR
								   : FLG_REASON_REVERSE_NAT;
	}
	if (reason < FLG_REASON_DROP_FIRST) {
		/* From an endpoint: its egress policy, on the flow as it sent it. */
		const struct endpoint_info *ep = flg_policy_endpoint(skb->ifindex);
		if (ep) {
			struct flg_tuple sent = { pkt.saddr, pkt.daddr, pkt.sport, pkt.dport };
			__u32 verdict = flg_policy_check(cfg, ep, FLG_POLICY_EGRESS, &sent, &pkt, peer_addr,
							 peer_port, FLG_POLICY_CT_TRACK, &ids);
			if (verdict != FLG_REASON_PASSED)
				reason = verdict;
		}
	}
out:
	flg_account(cfg, reason, FLG_HOOK_TC_INGRESS, skb->ifindex, &pkt, t.backend_id, t.rev_nat_index, &ids);
	return flg_tc_verdict(reason);
}

/*
 * Egress counts only what it acts on (reverse NAT, drops): every packet it
 * passes was already counted where it entered.
 */
SEC("tc")
int flg_tc_egress(struct __sk_buff *skb)
{
	const struct flg_config *cfg = flg_config_get();
	if (!cfg)
		return TC_ACT_OK;

	flg_tc_linearize(skb, FLG_MAX_HDR_LEN);
	struct flg_pkt pkt = { .len = skb->len };
	struct flg_lb_target t = {};
	struct flg_ids ids = {};
	int parsed = flg_parse((void *)(long)skb->data, (void *)(long)skb->data_end, &pkt);
	__u32 reason = FLG_REASON_PASSED;
	if (parsed != FLG_PARSE_OK) {
		/* Into an endpoint: its ingress policy fails closed. */
		const struct endpoint_info *ep = flg_parse_judged(parsed) ? flg_policy_endpoint(skb->ifindex) : NULL;
		if (!ep)
			return TC_ACT_OK;
		reason = flg_tc_policy_other(skb, cfg, ep, FLG_POLICY_INGRESS, parsed, &pkt, &ids);
		goto out;
	}

	struct flg_tuple received = { pkt.saddr, pkt.daddr, pkt.sport, pkt.dport };
	if (flg_lb4_reverse(cfg, &pkt, &t)) {
		reason = flg_tc_nat4(skb, &pkt, 0, t.addr, t.port) ? FLG_REASON_DROP_CSUM_ERROR
								   : FLG_REASON_REVERSE_NAT;
		received.saddr = t.addr;
		received.sport = t.port;
	}
	if (reason < FLG_REASON_DROP_FIRST) {
		/* Into an endpoint: its ingress policy, on the flow as it receives it. */
		const struct endpoint_info *ep = flg_policy_endpoint(skb->ifindex);
		if (ep) {
			__u32 verdict = flg_policy_check(cfg, ep, FLG_POLICY_INGRESS, &received, &pkt,
							 received.saddr, received.dport, FLG_POLICY_CT_TRACK, &ids);
			if (verdict != FLG_REASON_PASSED)
				reason = verdict;
		}
	}
out:
	if (reason == FLG_REASON_PASSED)
		return TC_ACT_OK;
	flg_account(cfg, reason, FLG_HOOK_TC_EGRESS, skb->ifindex, &pkt, t.backend_id, t.rev_nat_index, &ids);
	return flg_tc_verdict(reason);
}

SEC("xdp")
int flg_xdp(struct xdp_md *ctx)
{
	const struct flg_config *cfg = flg_config_get();
	if (!cfg)
		return XDP_PASS;

	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct flg_pkt pkt = { .len = data_end - data };
	struct flg_lb_target t = {};
	struct flg_ids ids = {};
	int parsed = flg_parse(data, data_end, &pkt);
	__u32 reason;

	if (parsed != FLG_PARSE_OK) {
		reason = flg_parse_reason(parsed);
		goto out;
	}
	/* Policy is not judged here: XDP serves physical NICs, where no
	 * endpoint sits; the backend's ingress policy applies at its
	 * host-side interface. */
	reason = flg_lb4_forward(cfg, &pkt, &t, ctx->ingress_ifindex);
	if (reason == FLG_REASON_FORWARDED && flg_xdp_dnat4(ctx, &pkt, t.addr, t.port))
		reason = FLG_REASON_DROP_MALFORMED;
out:
	flg_account(cfg, reason, FLG_HOOK_XDP, ctx->ingress_ifindex, &pkt, t.backend_id, t.rev_nat_index, &ids);
	return reason >= FLG_REASON_DROP_FIRST ? XDP_DROP : XDP_PASS;
}
