/* SPDX-License-Identifier: Apache-2.0 */
/* Local endpoints, found by the ifindex of their host-side interface. */
#ifndef FLG_LIB_ENDPOINT_H
#define FLG_LIB_ENDPOINT_H

#include "maps.h"

/* The endpoint behind a host-side interface, or NULL (not an endpoint). */
static __always_inline const struct endpoint_info *flg_endpoint_lookup(__u32 ifindex)
{
	return bpf_map_lookup_elem(&flg_endpoints, &ifindex);
}

#endif /* FLG_LIB_ENDPOINT_H */
