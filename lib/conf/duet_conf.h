/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * duet_conf: duetd's configuration file (INI, read with rte_cfgfile) and its
 * validation. Every error names the file, section and key and says what is
 * wrong. Loading runs once on the main thread before any worker starts;
 * needs no EAL (tests call it directly). The endpoint helpers only read a
 * loaded struct: the main thread and the control thread call them later.
 * See config/duetd.conf for every key.
 */
#ifndef DUET_CONF_H
#define DUET_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "duet_addr.h"
#include "duet_parse.h"
#include "duet_policy.h"

#define DUET_CONF_MAX_PORTS 8	  /**< ethdev ports duetd serves */
#define DUET_CONF_MAX_ADDRS 16	  /**< service addresses per port */
#define DUET_CONF_MAX_WORKERS 64  /**< worker lcores */
#define DUET_CONF_RELAY_ID_MAX 32 /**< relay id length */
/** Longest ethdev name in [port NAME], as docs/config.md states it
 * (rte_cfgfile keeps 63 characters of a section name). */
#define DUET_CONF_PORT_NAME_MAX 57
#define DUET_CONF_ERR_MAX 256	  /**< size of an error message buffer */

/** One ethdev port: section [port <ethdev name>]. */
struct duet_conf_port {
	char name[64];				    /**< ethdev name, e.g. net_af_packet0 or 0000:01:00.0 */
	struct duet_addr addrs[DUET_CONF_MAX_ADDRS]; /**< service addresses (port 0), IPv4
							  and IPv6 in the order written */
	unsigned int n_addrs;			    /**< count of addrs, >= 1, both families */
	struct duet_addr gateway;		    /**< IPv4 next hop, family NONE if unset */
	struct duet_addr gateway6;		    /**< IPv6 next hop (global or link-local),
						         family NONE if unset */
	uint16_t rx_desc;			    /**< rx ring size per queue */
	uint16_t tx_desc;			    /**< tx ring size per queue */
};

/** Where Redis is and how to log in ([redis] address: duet_parse_redis_addr). */
struct duet_conf_redis {
	enum duet_redis_addr_kind kind; /**< one server (0), Sentinels or a cluster */
	char unix_path[108];	     /**< SERVER: unix socket path, or "" for TCP */
	char host[256];		     /**< SERVER: TCP host when unix_path is "" */
	uint16_t port;		     /**< SERVER: TCP port */
	char master_name[DUET_REDIS_ADDR_NAME_MAX]; /**< SENTINEL: the master's name */
	struct duet_redis_node nodes[DUET_REDIS_ADDR_NODES_MAX]; /**< SENTINEL: Sentinels;
								      CLUSTER: seed nodes */
	unsigned int n_nodes;	     /**< entries of nodes */
	char user[64];		     /**< ACL user, "" for the default user */
	char password[256];	     /**< password, "" for none */
	uint32_t connect_timeout_ms; /**< connect and command timeout */
};

/** DSCP value meaning "keep the caller's DSCP" ([media] dscp = keep). */
#define DUET_CONF_DSCP_KEEP 255u

/** Section [security]: what strangers may do to the relay and through it. */
struct duet_conf_security {
	uint32_t max_pps;	       /**< per-leg policer, packets/s; 0 = no packet limit */
	uint32_t max_kbps;	       /**< per-leg policer, kbit/s of IP packets; 0 = no byte limit */
	uint32_t police_burst_ms;      /**< policer burst allowance, ms at the rate */
	uint32_t budget_no_pair_pps;   /**< relay-wide: packets/s to endpoints with no pair */
	uint32_t budget_unlatched_pps; /**< relay-wide: packets/s to legs with no client yet */
	uint32_t budget_icmp_pps;      /**< relay-wide: ICMP echo replies/s */
	uint32_t budget_arp_pps;       /**< relay-wide: ARP replies/s */
	uint32_t srtp_max_ssrc;	       /**< SRTP streams per direction (verify, rekey) */
};

/** The whole configuration. */
/** [log] format: how duetd writes its log lines. */
enum duet_log_format {
	DUET_LOG_TEXT = 0, /**< "TIME LEVEL TYPE: message" */
	DUET_LOG_JSON,	   /**< one JSON object a line, for log shippers */
};

/** [srtp] engine: which SRTP implementation the workers use. */
enum duet_conf_srtp_engine {
	DUET_CONF_SRTP_AUTO = 0, /**< not given: burst where the CPU has AES-NI, else libsrtp2 */
	DUET_CONF_SRTP_BURST,	 /**< lib/srtpe's burst engine on intel-ipsec-mb */
	DUET_CONF_SRTP_LIBSRTP2, /**< libsrtp2, one packet at a time */
};

/** [metrics]: the Prometheus endpoint. */
struct duet_conf_metrics {
	bool enabled;	       /**< false: listen = off */
	struct duet_addr addr; /**< listen address and port (IPv4 or IPv6) */
};

/** [privacy]: what an operator may see of the callers. */
struct duet_conf_privacy {
	bool allow_capture;  /**< rte_pdump (dpdk-dumpcap) may attach */
	bool show_addresses; /**< /duet/pair telemetry shows the legs' client addresses */
};

struct duet_conf {
	char relay_id[DUET_CONF_RELAY_ID_MAX + 1]; /**< [relay] id: [A-Za-z0-9_-] */
	unsigned int workers[DUET_CONF_MAX_WORKERS]; /**< [relay] workers: lcore ids */
	unsigned int n_workers;
	uint32_t max_pairs;	     /**< [relay] max_pairs */
	uint32_t idle_timeout_ms;    /**< [relay] idle_timeout_ms, default per pair; 0 = never */
	uint32_t relatch_silence_ms; /**< [relay] relatch_silence_ms */
	/** [relay] resync_hold_percent: a full reload that would end more than
	 * this share of the installed pairs holds them instead (100: never). */
	uint32_t resync_hold_percent;
	uint8_t relatch;	     /**< [relay] relatch: enum duet_relatch */
	uint32_t stats_interval_ms;  /**< [relay] stats_interval_ms */
	uint32_t heartbeat_ttl_ms;   /**< [relay] heartbeat_ttl_ms */
	uint32_t idle_poll_us;	     /**< [relay] idle_poll_us: sleep when rx is empty, 0 = busy poll */
	uint16_t port_min;	     /**< [media] port_min */
	uint16_t port_max;	     /**< [media] port_max */
	uint32_t ttl;		     /**< [media] ttl: TTL of relayed packets, 1..255 */
	uint32_t dscp;		     /**< [media] dscp: 0..63, or DUET_CONF_DSCP_KEEP */
	struct duet_conf_security security; /**< [security] */
	struct duet_policy policy;   /**< source policy: built-in classes, every service
					  address, [security] denied_peers/allowed_peers;
					  policy.link_local6 is [security]
					  ipv6_link_local_peers */
	struct duet_conf_redis redis; /**< [redis] */
	struct duet_conf_metrics metrics; /**< [metrics] */
	enum duet_log_format log_format;  /**< [log] format */
	enum duet_conf_srtp_engine srtp_engine; /**< [srtp] engine (at start only) */
	struct duet_conf_privacy privacy; /**< [privacy] */
	uint32_t link_wait_ms;	     /**< [relay] link_wait_ms: wait this long for links up */
	struct duet_conf_port ports[DUET_CONF_MAX_PORTS]; /**< [port <name>] sections */
	unsigned int n_ports;
};

/**
 * Fill conf with defaults (no ports, no relay id).
 */
void duet_conf_defaults(struct duet_conf *conf);

/**
 * Load and validate a config file.
 * @param err on failure, "<path>: [section] key: what is wrong"
 * @return 0, -ENOENT (cannot read), or -EINVAL (invalid content).
 */
int duet_conf_load(const char *path, struct duet_conf *conf, char *err, size_t errlen);

/** Is this lcore id one EAL runs? rte_lcore_is_enabled() is one. */
typedef int (*duet_conf_lcore_enabled_fn)(unsigned int lcore_id);

/**
 * Check [relay] workers against the lcores EAL really has, which only
 * rte_eal_init knows: each worker must be an enabled lcore and not the main
 * lcore (the control thread). The caller passes EAL's answers, so lib/conf
 * still needs no EAL. Main thread, after rte_eal_init and duet_conf_load.
 * @param conf       a loaded config
 * @param path       the file it was loaded from, for the message
 * @param enabled    true for an lcore id EAL runs (rte_lcore_is_enabled)
 * @param main_lcore EAL's main lcore (rte_get_main_lcore())
 * @param err        on failure, "<path>: [relay] workers: what is wrong"
 * @return 0 or -EINVAL.
 */
int duet_conf_check_workers(const struct duet_conf *conf, const char *path,
			    duet_conf_lcore_enabled_fn enabled, unsigned int main_lcore, char *err,
			    size_t errlen);

/**
 * Which port serves endpoint ep: its IP must be a service address of a port
 * and its UDP port inside [port_min, port_max].
 * @return the port index, -ENOENT if the IP is no service address, -ERANGE if
 *         the UDP port is outside the media range.
 */
int duet_conf_endpoint_port(const struct duet_conf *conf, const struct duet_addr *ep);

/** Number of relay endpoints the config defines (addresses x port range). */
uint64_t duet_conf_endpoint_count(const struct duet_conf *conf);

/**
 * The i-th endpoint (0 <= i < duet_conf_endpoint_count), in a stable order:
 * ports, then addresses, then UDP ports ascending. @return 0 or -ERANGE.
 */
int duet_conf_endpoint_at(const struct duet_conf *conf, uint64_t i, struct duet_addr *ep);

#endif /* DUET_CONF_H */
