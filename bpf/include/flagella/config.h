/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Node-level settings, read by every program from flg_config (ARRAY of 1).
 * The object is never recompiled per configuration: the loader writes this
 * struct after load, and the agent may rewrite it at any time (programs read
 * it on every packet, so a change applies to the next packet).
 *
 * An all-zero config (the map before the loader wrote it) has
 * FLG_CFG_F_ENABLED clear, and every program then passes traffic untouched.
 */
#ifndef FLAGELLA_CONFIG_H
#define FLAGELLA_CONFIG_H

#include <linux/types.h>

#define FLG_CFG_F_ENABLED        (1 << 0) /* load balancing on; off = pass everything */
#define FLG_CFG_F_TRACE_EVENTS   (1 << 1) /* emit a trace event for every handled packet */
#define FLG_CFG_F_WILDCARD_DROP  (1 << 2) /* drop traffic to unknown ports of a VIP with a wildcard entry */
/* Bit 3 is unused: policy is switched on by flg_policy_state, which the
 * policy reconciler owns, so a config write can never turn it off. */

struct flg_config {
	__u32 flags;                /* FLG_CFG_F_* */
	__u32 default_lb_algorithm; /* FLG_LB_ALG_RANDOM or FLG_LB_ALG_MAGLEV */
	__u32 maglev_table_size;    /* M: entries of every inner maglev array */
	__u32 hash_seed;            /* seed of the Maglev flow hash */
	__u32 ct_timeout_tcp_s;     /* established TCP flow */
	__u32 ct_timeout_syn_s;     /* TCP flow before the first reply */
	__u32 ct_timeout_fin_s;     /* TCP flow after FIN or RST */
	__u32 ct_timeout_other_s;   /* UDP and every other protocol */
};

#endif /* FLAGELLA_CONFIG_H */
