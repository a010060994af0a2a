/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPFLOW_OPTION_LIST_H
#define DPFLOW_OPTION_LIST_H

/*
 * Every setting, one row each, in --help and show config order:
 *   O(TYPE, name, field, what TYPE takes..., help)
 * name is --NAME and the [dpflow] key; field is the member of struct
 * dpf_options (config.h), whose C type follows from TYPE; help is --help's.
 * What each TYPE takes (options.c's O_TYPE row macros):
 *   STR, META, PATH, PATH_CLI, STR_BY_OWNER  default, ARG
 *   UINT                                     min, max, default, ARG
 *   ENUM                                     names (options.c), default, ARG
 *   LIST                                     ARG
 *   FLAG_CLI, FLAG_SHORT                     (nothing)
 * The one list makes both the struct's fields and the option table, so a
 * row cannot name a field of another type, and a setting is added in one
 * place.
 */
#define DPF_OPTIONS(O)                                                                             \
	O(PATH, "replay", replay, NULL, "FILE",                                                    \
	  "replay a pcap through the software-RSS source; exits once every window is flushed")     \
	O(UINT, "rxq", rxq, 1, DPF_MAX_RX_CORES, "1", "N",                                         \
	  "RX queues per port, one RX lcore each")                                                 \
	O(UINT, "window", window, 1, 3600, "600", "SEC",                                           \
	  "capture window length, aligned to Unix time")                                           \
	/* clock: enum dpf_clock */                                                                \
	O(ENUM, "clock", clock, clock_names, "auto", "packet|wall",                                \
	  "window clock; auto: packet for --replay and net_pcap ports, wall otherwise")            \
	O(STR, "log-format", log_format, DPF_FMT_DEFAULT, "FMT", "AWS flow log format string")     \
	O(PATH, "output", output, "-", "DIR|-",                                                    \
	  "DIR: files in the AWS object layout; -: header and records on stdout")                  \
	/* compress: enum dpf_compress */                                                          \
	O(ENUM, "compress", compress, compress_names, "zstd", "zstd|gzip|none",                    \
	  "file compression (files only)")                                                         \
	O(UINT, "compress-level", compress_level, 0, 22, "0", "N",                                 \
	  "compression level; 0: zstd 3, gzip 6")                                                  \
	O(META, "account-id", account_id, "unknown", "ID",                                         \
	  "account-id of every interface (and the object path)")                                   \
	O(META, "interface-id", interface_id, "eni-port0", "ID",                                   \
	  "interface-id of port 0 (other ports: eni-port<N>, or [interface] sections)")            \
	O(META, "vpc-id", vpc_id, NULL, "ID", "vpc-id field")                                      \
	O(META, "subnet-id", subnet_id, NULL, "ID", "subnet-id field")                             \
	O(META, "instance-id", instance_id, NULL, "ID", "instance-id field")                       \
	O(META, "region", region, NULL, "R",                                                       \
	  "region field (and the object path, where unset is 'unknown')")                          \
	O(META, "az-id", az_id, NULL, "A", "az-id field")                                          \
	O(META, "sublocation-type", sublocation_type, NULL, "T", "sublocation-type field")         \
	O(META, "sublocation-id", sublocation_id, NULL, "ID", "sublocation-id field")              \
	O(META, "flow-log-id", flow_log_id, "fl-dpflow", "ID", "flow log id in object names")      \
	O(UINT, "idle-exit", idle_exit, 0, 86400 * 365, "0", "SEC",                                \
	  "flush everything and exit after SEC seconds without packets (0: never)")                \
	O(UINT, "flows-per-core", flows_per_core, 1, 1u << 27, "65536", "N",                       \
	  "flow table capacity of each RX core, per window")                                       \
	O(UINT, "shards-per-core", shards_per_core, 2, 16, "3", "N",                               \
	  "flow tables per RX core (open window plus windows being merged)")                       \
	O(UINT, "stats-period", stats_period, 0, 86400, "0", "SEC",                                \
	  "print a progress line every SEC seconds (0: only the summary at exit); not with -i")    \
	/* metrics: ADDR:PORT of the Prometheus endpoint (control/metrics_http.c) */               \
	O(STR, "metrics", metrics, NULL, "ADDR:PORT",                                              \
	  "serve the counters as Prometheus metrics on http://ADDR:PORT/metrics (ADDR: an IPv4 "   \
	  "address, [IPv6 address] or host name); off by default")                                 \
	O(STR, "forward", forward, NULL, "A:B[,C:D]",                                              \
	  "forward mode: pair ports like testpmd io forwarding; accepted packets are "             \
	  "NAT-rewritten and sent on the peer port, rejected ones dropped")                        \
	/* unmatched: enum dpf_unmatched */                                                        \
	O(ENUM, "unmatched", unmatched, unmatched_names, "log", "log|drop",                        \
	  "packets matching no interface: log on the port's default interface, or count and drop") \
	/* decap: none, all, or vxlan,geneve,gre,ipip (overlay.c) */                               \
	O(STR, "decap", decap, "none", "none|all|LIST",                                            \
	  "open these tunnels and log the flows inside (comma list of vxlan, geneve, gre, ipip), " \
	  "per tenant interface ([interface] vni = N); none: log tunnels by their outer header")   \
	/* vxlan_ports: VXLAN UDP destination ports, comma list */                                 \
	O(STR, "vxlan-ports", vxlan_ports, "4789", "P[,P...]",                                     \
	  "UDP destination ports that carry VXLAN (GENEVE is UDP port 6081)")                      \
	O(LIST, "nat-rule", nat_rules, "RULE",                                                     \
	  "NAT rule (repeatable): static IN-CIDR OUT-CIDR | dnat PROTO ADDR:PORT TO:PORT | "       \
	  "masquerade IN-CIDR OUT-ADDR [LO-HI]")                                                   \
	O(UINT, "nat-sessions-per-core", nat_sessions_per_core, 1, 1u << 24, "65536", "N",         \
	  "masquerade sessions each RX core can hold")                                             \
	O(UINT, "nat-timeout", nat_timeout, 1, 86400, "300", "SEC",                                \
	  "idle masquerade sessions expire after SEC seconds")                                     \
	/* nat_sessions: enum dpf_nat_sessions_mode */                                             \
	O(ENUM, "nat-sessions", nat_sessions, nat_sessions_names, "auto", "auto|per-core|shared",  \
	  "masquerade sessions: per-core (ports chosen so replies hash to their core: needs "      \
	  "dpflow's Toeplitz RSS on every port), shared (every RX core finds every session), "     \
	  "auto: per-core where the ports allow it")                                               \
	O(LIST, "acl-rule", acl_rules, "RULE",                                                     \
	  "ACL rule (repeatable, first match wins): allow|deny PROTO SRC SPORTS DST DPORTS")       \
	/* acl_default: 0 allow, 1 deny (= enum dpf_action) */                                     \
	O(ENUM, "acl-default", acl_default, acl_default_names, "allow", "allow|deny",              \
	  "verdict when no ACL rule matches")                                                      \
	/* acl_stateful: 0 no, 1 yes */                                                            \
	O(ENUM, "acl-stateful", acl_stateful, yes_no_names, "no", "yes|no",                        \
	  "accept replies to accepted connections, like a security group")                         \
	O(UINT, "conntrack-per-core", conntrack_per_core, 1, 1u << 24, "65536", "N",               \
	  "connections each RX core tracks in stateful ACL mode")                                  \
	O(UINT, "conntrack-timeout", conntrack_timeout, 1, 86400, "300", "SEC",                    \
	  "idle tracked connections expire after SEC seconds")                                     \
	/* stats_detail: the exit summary's lines of value 0 too */                                \
	O(FLAG_CLI, "stats-detail", stats_detail,                                                  \
	  "the exit summary prints its counters of value 0 too (also with "                        \
	  "--log-level=dpflow.control:debug)")                                                     \
	/* exit_status_on_loss: exit DPF_EXIT_LOSS when the run lost packets or records */         \
	O(FLAG_CLI, "exit-status-on-loss", exit_status_on_loss,                                    \
	  "exit 3 when the run lost packets or records (a LOST line of the summary)")              \
	/* interactive: -i */                                                                      \
	O(FLAG_SHORT, "interactive", interactive,                                                  \
	  "-i: the dpflow> prompt (testpmd style); with it the program exits on quit")             \
	O(PATH_CLI, "cmdline-file", cmdline_file, NULL, "FILE",                                    \
	  "run the prompt's commands from FILE, printing their output")                            \
	/* flow_store: records kept for show/export flows */                                       \
	O(UINT, "flow-store", flow_store, 1, 10000000, "100000", "N",                              \
	  "records of recent windows kept for show flows / export flows")                          \
	O(PATH_CLI, "config", config, NULL, "FILE",                                                \
	  "read settings from FILE ([dpflow] keys as above, [interface ID] sections); "            \
	  "command-line options win")                                                              \
	/* IPFIX export (output/export_ipfix.c) */                                                 \
	O(STR, "ipfix", ipfix, NULL, "udp://HOST:PORT|tcp://HOST:PORT",                            \
	  "also export the records as IPFIX (RFC 7011) to this collector")                         \
	O(UINT, "ipfix-domain-id", ipfix_domain_id, 0, UINT32_MAX, "1", "N",                       \
	  "IPFIX observation domain id")                                                           \
	O(UINT, "ipfix-message-size", ipfix_message_size, 512, 65535, "1400", "BYTES",             \
	  "largest IPFIX message (UDP: under the path MTU; --decap: 756 at least)")                \
	O(UINT, "ipfix-template-refresh", ipfix_template_refresh, 1, 86400, "300", "SEC",          \
	  "resend IPFIX templates over UDP every SEC seconds")                                     \
	/* ipfix_interface_names: 0 no, 1 yes */                                                   \
	O(ENUM, "ipfix-interface-names", ipfix_interface_names, yes_no_names, "no", "no|yes",      \
	  "also send interface-id names as IPFIX option records (interfaceName)")                  \
	/* ipfix_rate: UDP messages per second after a burst, 0: no pacing */                      \
	O(UINT, "ipfix-rate", ipfix_rate, 0, 10000000, "5000", "MSGS",                             \
	  "UDP: after a burst of 32, at most MSGS IPFIX messages a second, so a window's records " \
	  "do not overflow the collector's socket (0: no pacing)")                                 \
	/* Connection records (output/export_ibm.c, lib/conn) */                                   \
	O(PATH, "ibm-output", ibm_output, NULL, "DIR|-",                                           \
	  "also write connection records as IBM Cloud VPC flow log objects (gzip JSON) under "     \
	  "DIR, or one JSON line per object on stdout (doc/records.md)")                           \
	O(UINT, "ibm-max-flows", ibm_max_flows, 1, 10000000, "100000", "N",                        \
	  "flow logs per IBM object; a window with more gets several objects")                     \
	O(UINT, "ibm-compress-level", ibm_compress_level, 1, 12, "1", "N",                         \
	  "gzip level of the IBM objects: 1 ISA-L igzip (fastest), 2..12 libdeflate "              \
	  "(12 smallest)")                                                                         \
	O(STR, "ibm-collector-crn", ibm_collector_crn, NULL, "CRN",                                \
	  "collector_crn of the IBM objects of interfaces whose [interface] section gives no "     \
	  "collector-crn (default built from region, account-id and flow-log-id)")                 \
	/* ibm_nat_view: 0 no, 1 yes */                                                            \
	O(ENUM, "ibm-nat-view", ibm_nat_view, yes_no_names, "no", "no|yes",                        \
	  "add the post-NAT view to each IBM flow log (dpflow_nat_* fields)")                      \
	/* connections: 0 no, 1 yes: connection records without --ibm-output */                    \
	O(ENUM, "connections", connections, yes_no_names, "no", "no|yes",                          \
	  "build connection records (show connections, the daily tg-flow-logs-YYYY-MM-DD.csv.gz) " \
	  "without --ibm-output (they are built whenever --ibm-output is set)")                    \
	O(UINT, "conn-timeout", conn_timeout, 1, 86400, "300", "SEC",                              \
	  "a connection idle longer than SEC seconds is over; its next packet begins a new one")   \
	O(UINT, "conn-max", conn_max, 1, 1u << 26, "131072", "N",                                  \
	  "connections held at once for connection records; beyond it new ones are counted and "   \
	  "their window's objects say skip data")                                                  \
	/* Object storage upload (output/export_s3.c); no secret is ever an option. */             \
	O(STR, "s3-bucket", s3_bucket, NULL, "NAME",                                               \
	  "upload every published file to this S3 bucket (needs --output DIR)")                    \
	O(STR, "s3-endpoint", s3_endpoint, NULL, "URL",                                            \
	  "S3-compatible service URL (default https://s3.<s3-region>.amazonaws.com)")              \
	O(META, "s3-region", s3_region, NULL, "R",                                                 \
	  "signing region (default --region, else us-east-1)")                                     \
	O(STR, "s3-prefix", s3_prefix, NULL, "PREFIX",                                             \
	  "key prefix in the bucket (objects go under PREFIX/AWSLogs/...)")                        \
	/* s3_url_style: enum dpf_s3_url_style */                                                  \
	O(ENUM, "s3-url-style", s3_url_style, s3_url_style_names, "path", "path|virtual",          \
	  "bucket in the URL path, or as a host name label")                                       \
	/* s3_layout: enum dpf_s3_layout */                                                        \
	O(ENUM, "s3-layout", s3_layout, s3_layout_names, "plain", "plain|hourly|hive|hive-hourly", \
	  "object key layout (AWS flow log delivery options)")                                     \
	O(STR, "s3-credentials", s3_credentials, NULL, "FILE",                                     \
	  "AWS shared credentials file (default: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, else "   \
	  "AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials)")                                    \
	O(META, "s3-profile", s3_profile, NULL, "NAME",                                            \
	  "profile in the credentials file (default AWS_PROFILE, else default)")                   \
	O(STR, "s3-ca-file", s3_ca_file, NULL, "FILE",                                             \
	  "PEM CA bundle for an https endpoint with a private CA")                                 \
	O(STR, "s3-spool", s3_spool, NULL, "DIR",                                                  \
	  "files wait here until their upload is confirmed (default <output>/.s3-spool)")          \
	O(UINT, "s3-spool-max-mb", s3_spool_max_mb, 1, 1u << 30, "1024", "MB",                     \
	  "spool size limit; a file that does not fit stays in --output, not uploaded")            \
	O(UINT, "s3-spool-max-files", s3_spool_max_files, 1, 10000000, "10000", "N",               \
	  "spool file-count limit")                                                                \
	/* s3_keep_local: 0 no, 1 yes */                                                           \
	O(ENUM, "s3-keep-local", s3_keep_local, yes_no_names, "no", "no|yes",                      \
	  "keep the published file in --output besides the spool")                                 \
	O(UINT, "s3-retry-min-ms", s3_retry_min_ms, 1, 600000, "1000", "MS",                       \
	  "first retry delay; doubles per failure")                                                \
	O(UINT, "s3-retry-max-sec", s3_retry_max_sec, 1, 86400, "300", "SEC",                      \
	  "longest retry delay")                                                                   \
	O(UINT, "s3-drain-sec", s3_drain_sec, 0, 86400, "30", "SEC",                               \
	  "at stop, keep uploading the spool for up to SEC seconds (the rest waits for the next "  \
	  "start)")                                                                                \
	O(UINT, "s3-timeout-sec", s3_timeout_sec, 1, 3600, "30", "SEC",                            \
	  "connect timeout, and abort a transfer stalled for SEC seconds")                         \
	/* drivers_cfg: driver profile directory (ports/drivers.c) */                              \
	O(STR_BY_OWNER, "drivers-cfg", drivers_cfg, NULL, "DIR",                                   \
	  "driver profile directory (default: the installed drivers-cfg, else the source "         \
	  "tree's); see doc/drivers-cfg.md")                                                       \
	/* reliability (doc/reliability.md) */                                                     \
	/* hold_mb: output held in memory while the disk refuses it */                             \
	O(UINT, "hold-mb", hold_mb, 1, 1u << 20, "64", "MB",                                       \
	  "output kept in memory while the output directory cannot be written (full, read-only, "  \
	  "unwritable), retried every 250 ms; beyond it records are counted as lost")              \
	/* max_time_gap: packet clock: implausible times are bad-time */                           \
	O(UINT, "max-time-gap", max_time_gap, 0, 100ull * 366 * 86400, "86400", "SEC",             \
	  "packet clock: a packet more than SEC ahead of this host's clock or of the newest "      \
	  "plausible time, or more than SEC before the first window, is counted bad-time and not " \
	  "logged; times outside 1970..2554 always are (0: only those)")                           \
	/* test_writer_delay: test knob: ms the writer waits per batch */                          \
	O(UINT, "test-writer-delay", test_writer_delay, 0, 60000, "0", "MS",                       \
	  "test knob: the writer waits MS ms before each record batch until a stop, like a slow "  \
	  "disk (doc/reliability.md)")

#endif /* DPFLOW_OPTION_LIST_H */
