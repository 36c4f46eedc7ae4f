/* SPDX-License-Identifier: Apache-2.0 */
/* Common includes and small helpers for the datapath programs. */
#ifndef FLG_LIB_DEFS_H
#define FLG_LIB_DEFS_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stddef.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include <flagella/config.h>
#include <flagella/events.h>
#include <flagella/maps.h>

#ifndef IP_MF
#define IP_MF 0x2000
#endif
#ifndef IP_OFFSET
#define IP_OFFSET 0x1fff
#endif

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10

#define NSEC_PER_SEC 1000000000ULL

/* Monotonic seconds. The coarse clock is cheaper and a tick of error is
 * irrelevant to timeouts counted in seconds. */
static __always_inline __u32 flg_now_seconds(void)
{
	return (__u32)(bpf_ktime_get_coarse_ns() / NSEC_PER_SEC);
}

#endif /* FLG_LIB_DEFS_H */
