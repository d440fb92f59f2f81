/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_port_capture: whether dpdk-dumpcap may attach to duetd's ports
 * ([privacy] allow_capture). A capture holds client addresses and whole
 * packets, so by default duetd refuses one, and says so both to the
 * capturing process (its request fails with EPERM) and in its own log.
 * DPDK's pdump is initialised either way, so that dpdk-dumpcap gets far
 * enough to ask; when capture is not allowed, duetd then answers the
 * pdump requests itself. Main thread at start (init), EAL's multi-process
 * thread for the requests.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>
#include <rte_pdump.h>

#include "duet_port.h"

extern int duet_port_logtype;
#define CAPTURE_LOG(level, ...) rte_log(RTE_LOG_##level, duet_port_logtype, __VA_ARGS__)

/* pdump's channel and the head of its request and reply (lib/pdump): a
 * version and an operation, then flags and the device's name; the reply
 * is the version, the operation and an error (0 or -errno). */
#define PDUMP_CHANNEL "mp_pdump"
#define PDUMP_REQ_DEVICE_OFF 8
#define PDUMP_DEVICE_MAX 64

struct pdump_reply_head {
	uint16_t ver;
	uint16_t op;
	int32_t err;
};

static int
refuse_capture(const struct rte_mp_msg *msg, const void *peer)
{
	struct rte_mp_msg reply;
	struct pdump_reply_head *r = (struct pdump_reply_head *)reply.param;
	char device[PDUMP_DEVICE_MAX + 1] = "?";
	uint16_t ver = 0, op = 0;

	if (msg->len_param >= 4) {
		memcpy(&ver, msg->param, 2);
		memcpy(&op, msg->param + 2, 2);
	}
	if (msg->len_param >= PDUMP_REQ_DEVICE_OFF + 1) {
		size_t n = (size_t)msg->len_param - PDUMP_REQ_DEVICE_OFF;

		n = n < PDUMP_DEVICE_MAX ? n : PDUMP_DEVICE_MAX;
		memcpy(device, msg->param + PDUMP_REQ_DEVICE_OFF, n);
		device[n] = '\0';
	}
	CAPTURE_LOG(WARNING,
		    "a packet capture of port %s was asked (dpdk-dumpcap): refused, [privacy] "
		    "allow_capture = no (a capture holds client addresses and whole packets)\n",
		    device);
	memset(&reply, 0, sizeof(reply));
	snprintf(reply.name, sizeof(reply.name), "%s", PDUMP_CHANNEL);
	reply.len_param = sizeof(*r);
	r->ver = ver;
	r->op = op;
	r->err = -EPERM;
	return rte_mp_reply(&reply, peer) < 0 ? -1 : 0;
}

int
duet_port_capture_init(bool allow)
{
	if (rte_pdump_init() != 0) {
		CAPTURE_LOG(WARNING, "packet capture unavailable: pdump init failed: %s\n",
			    rte_strerror(rte_errno));
		return -rte_errno;
	}
	if (allow) {
		CAPTURE_LOG(NOTICE, "[privacy] allow_capture = yes: dpdk-dumpcap may attach, and "
				    "its captures hold client addresses\n");
		return 0;
	}
	rte_mp_action_unregister(PDUMP_CHANNEL);
	if (rte_mp_action_register(PDUMP_CHANNEL, refuse_capture) != 0 && rte_errno != ENOTSUP) {
		CAPTURE_LOG(ERR, "cannot install the capture refusal: %s\n",
			    rte_strerror(rte_errno));
		return -rte_errno;
	}
	CAPTURE_LOG(INFO, "packet capture refused ([privacy] allow_capture = no)\n");
	return 0;
}

void
duet_port_capture_fini(void)
{
	rte_pdump_uninit();
}
