/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The map definitions. Every map is pinned by name under the loader's pin
 * root, so its state survives agent restarts; the loader resizes some of
 * them (max_entries) before load. Layouts live in <flagella/maps.h>.
 */
#ifndef FLG_LIB_MAPS_H
#define FLG_LIB_MAPS_H

#include "defs.h"

#define FLG_LB_MAP_MAX 65536

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct flg_config);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flg_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct lb4_key);
	__type(value, struct lb4_service);
	__uint(max_entries, FLG_LB_MAP_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flg_lb4_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct lb4_backend);
	__uint(max_entries, FLG_LB_MAP_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flg_lb4_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __be16);
	__type(value, struct lb4_reverse_nat);
	__uint(max_entries, FLG_LB_MAP_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flg_lb4_reverse_nat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct lb4_affinity_key);
	__type(value, struct lb_affinity_val);
	__uint(max_entries, FLG_LB_MAP_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flg_lb4_affinity SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct lb_affinity_match);
	__type(value, __u8);
	__uint(max_entries, FLG_LB_MAP_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flg_lb_affinity_match SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct lb4_src_range_key);
	__type(value, __u8);
	__uint(max_entries, FLG_LB_MAP_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flg_lb4_source_range SEC(".maps");

/* Maglev: outer keyed by rev-NAT index (network order); inner ARRAY of M
 * backend ids. BPF_F_INNER_MAP lets inner maps of any M replace the
 * template, which is why M needs no recompile (see <flagella/maps.h>). */
struct flg_maglev_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_INNER_MAP);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__type(key, __be16);
	__type(value, __u32);
	__uint(max_entries, FLG_LB_MAP_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct flg_maglev_inner);
} flg_lb4_maglev SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct ct4_key);
	__type(value, struct ct4_entry);
	__uint(max_entries, 262144);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flg_ct4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct frag4_key);
	__type(value, struct frag4_entry);
	__uint(max_entries, 8192);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flg_frag4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__type(key, __u32);
	__type(value, struct flg_metrics_value);
	__uint(max_entries, FLG_REASON_MAX);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flg_metrics SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flg_events SEC(".maps");

/* ---- Network policy (lib/policy.h) ----------------------------------- */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct flg_policy_state);
	__uint(max_entries, 1);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flg_policy_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct ipcache_key);
	__type(value, struct remote_endpoint_info);
	__uint(max_entries, 512000);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flg_ipcache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u32);
	__type(value, struct endpoint_info);
	__uint(max_entries, 65536);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} flg_endpoints SEC(".maps");

/* clang emits only a forward declaration for a struct that is reachable
 * solely through an inner-map definition, and libbpf then cannot size the
 * inner map's key. These anchors, in a section libbpf skips, make the full
 * policy types part of the object's BTF. */
struct policy_key flg_btf_anchor_policy_key SEC(".flg.btf_anchors") __attribute__((used));
struct policy_entry flg_btf_anchor_policy_entry SEC(".flg.btf_anchors") __attribute__((used));
/* Same for the ring-buffer event and the reason enum, so tools reading the
 * object's BTF (the layout generator, bpftool) see their full definitions. */
struct flg_event flg_btf_anchor_event SEC(".flg.btf_anchors") __attribute__((used));
enum flg_reason flg_btf_anchor_reason SEC(".flg.btf_anchors") __attribute__((used));

struct flg_policy_inner {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct policy_key);
	__type(value, struct policy_entry);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, 65536);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
	__array(values, struct flg_policy_inner);
} flg_policy SEC(".maps");

#endif /* FLG_LIB_MAPS_H */
