/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Keys, credentials, backoff, and the client against a one-shot HTTP server
 * on 127.0.0.1 (a thread of this test) that records the request and answers
 * what the test asks. Signature values are checked end to end by the e2e
 * tests' verifying gateway; here the request's shape is checked.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include <rte_errno.h>

#include "dpf_s3.h"

#define REL                                                                                        \
	"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2019/08/27/"                                   \
	"123456789012_vpcflowlogs_eu-west-1_fl-1_20190827T1910Z_0badf00d.log.zst"
#define NAME "123456789012_vpcflowlogs_eu-west-1_fl-1_20190827T1910Z_0badf00d.log.zst"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzzSECRET"

static void
test_s3_layout_parse_names(void **state)
{
	enum dpf_s3_layout l;

	(void)state;
	assert_int_equal(dpf_s3_layout_parse("plain", &l), 0);
	assert_int_equal(l, DPF_S3_LAYOUT_PLAIN);
	assert_int_equal(dpf_s3_layout_parse("hourly", &l), 0);
	assert_int_equal(l, DPF_S3_LAYOUT_HOURLY);
	assert_int_equal(dpf_s3_layout_parse("hive", &l), 0);
	assert_int_equal(l, DPF_S3_LAYOUT_HIVE);
	assert_int_equal(dpf_s3_layout_parse("hive-hourly", &l), 0);
	assert_int_equal(l, DPF_S3_LAYOUT_HIVE_HOURLY);
	assert_int_equal(dpf_s3_layout_parse("daily", &l), -EINVAL);
}

static void
test_s3_prefix_rules(void **state)
{
	(void)state;
	assert_true(dpf_s3_prefix_valid(NULL));
	assert_true(dpf_s3_prefix_valid(""));
	assert_true(dpf_s3_prefix_valid("flowlogs"));
	assert_true(dpf_s3_prefix_valid("/a/b=c/"));
	assert_false(dpf_s3_prefix_valid("a//b"));
	assert_false(dpf_s3_prefix_valid("a/../b"));
	assert_false(dpf_s3_prefix_valid("a/.b"));
	assert_false(dpf_s3_prefix_valid("has space"));
	assert_false(dpf_s3_prefix_valid("q?x"));
}

static void
test_s3_object_key_in_each_layout(void **state)
{
	char key[DPF_S3_KEY_MAX + 1];

	(void)state;
	assert_int_equal(dpf_s3_object_key(DPF_S3_LAYOUT_PLAIN, NULL, REL, key, sizeof(key)), 0);
	assert_string_equal(key, REL);
	assert_int_equal(
		dpf_s3_object_key(DPF_S3_LAYOUT_PLAIN, "/probes/p1/", REL, key, sizeof(key)), 0);
	assert_string_equal(key, "probes/p1/" REL);
	assert_int_equal(dpf_s3_object_key(DPF_S3_LAYOUT_HOURLY, "x", REL, key, sizeof(key)), 0);
	assert_string_equal(key,
			    "x/AWSLogs/123456789012/vpcflowlogs/eu-west-1/2019/08/27/19/" NAME);
	assert_int_equal(dpf_s3_object_key(DPF_S3_LAYOUT_HIVE, "", REL, key, sizeof(key)), 0);
	assert_string_equal(key, "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/"
				 "aws-region=eu-west-1/year=2019/month=08/day=27/" NAME);
	assert_int_equal(dpf_s3_object_key(DPF_S3_LAYOUT_HIVE_HOURLY, "p", REL, key, sizeof(key)),
			 0);
	assert_string_equal(key, "p/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/"
				 "aws-region=eu-west-1/year=2019/month=08/day=27/hour=19/" NAME);
	/* Too small a buffer is an error, never a cut key. */
	assert_int_equal(dpf_s3_object_key(DPF_S3_LAYOUT_PLAIN, NULL, REL, key, 20), -ENAMETOOLONG);
}

static void
test_s3_object_key_rejects_paths_outside_the_layout(void **state)
{
	char key[DPF_S3_KEY_MAX + 1];
	static const char *const bad[] = {
		"AWSLogs/1/vpcflowlogs/r/2019/08/27",
		"AWSLogs/1/vpcflowlogs/r/2019/08/27/x/" NAME,
		"Logs/123456789012/vpcflowlogs/eu-west-1/2019/08/27/" NAME,
		/* folders of another day than the stamp */
		"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2019/08/28/" NAME,
		"AWSLogs/123456789012/vpcflowlogs/eu-west-1/2019/08/27/no-stamp.log",
		"AWSLogs/123456789012/vpcflowlogs/eu-west-1/19/08/27/" NAME,
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(
			dpf_s3_object_key(DPF_S3_LAYOUT_PLAIN, NULL, bad[i], key, sizeof(key)),
			-EINVAL);
	assert_int_equal(dpf_s3_object_key(DPF_S3_LAYOUT_PLAIN, "a//b", REL, key, sizeof(key)),
			 -EINVAL);
	assert_int_equal(dpf_s3_validation_key("p/q/", key, sizeof(key)), 0);
	assert_string_equal(key, "p/q/validation");
	assert_int_equal(dpf_s3_validation_key(NULL, key, sizeof(key)), 0);
	assert_string_equal(key, "validation");
}

/* An IBM object keeps its own key, under the prefix; nothing else passes. */
static void
test_s3_ibm_object_key_keeps_ibm_key_under_prefix(void **state)
{
	static const char rel[] = "ibm_vpc_flowlogs_v1/account=a/region=r/vpc-id=v/subnet-id=s/"
				  "endpoint-type=vnics/instance-id=i/vnic-id=n/record-type=all/"
				  "year=2023/month=11/day=14/hour=22/stream-id=20231114T221000Z/"
				  "00000000.gz";
	char key[DPF_S3_KEY_MAX + 1];

	(void)state;
	assert_int_equal(dpf_s3_ibm_object_key("/cos/", rel, key, sizeof(key)), 0);
	assert_string_equal(key, "cos/ibm_vpc_flowlogs_v1/account=a/region=r/vpc-id=v/"
				 "subnet-id=s/endpoint-type=vnics/instance-id=i/vnic-id=n/"
				 "record-type=all/year=2023/month=11/day=14/hour=22/"
				 "stream-id=20231114T221000Z/00000000.gz");
	assert_int_equal(dpf_s3_ibm_object_key(NULL, rel, key, sizeof(key)), 0);
	assert_string_equal(key, rel);
	assert_int_equal(dpf_s3_ibm_object_key(NULL, "AWSLogs/x.gz", key, sizeof(key)), -EINVAL);
	assert_int_equal(
		dpf_s3_ibm_object_key(NULL, "ibm_vpc_flowlogs_v1/a/../b.gz", key, sizeof(key)),
		-EINVAL);
	assert_int_equal(
		dpf_s3_ibm_object_key(NULL, "ibm_vpc_flowlogs_v1/a/.0.gz.tmp", key, sizeof(key)),
		-EINVAL);
	assert_int_equal(dpf_s3_ibm_object_key(NULL, rel, key, 20), -ENAMETOOLONG);
}

/* A daily Trustgrid export goes straight under the prefix; nothing else of its shape. */
static void
test_s3_tg_day_key_is_under_prefix_and_checks_the_name(void **state)
{
	static const struct {
		const char *prefix, *rel;
	} bad[] = {
		{NULL, ".tg-flow-logs-2023-11-14.csv.gz.tmp"},
		{NULL, "tg-flow-logs-2023-1x-14.csv.gz"},
		{NULL, "tg-flow-logs-2023/11-14.csv.gz"},
		{NULL, "x/tg-flow-logs-2023-11-14.csv.gz"},
		{"a//b", "tg-flow-logs-2023-11-14.csv.gz"},
	};
	char key[DPF_S3_KEY_MAX + 1];

	(void)state;
	assert_int_equal(
		dpf_s3_tg_day_key("/tg/", "tg-flow-logs-2023-11-14.csv.gz", key, sizeof(key)), 0);
	assert_string_equal(key, "tg/tg-flow-logs-2023-11-14.csv.gz");
	assert_int_equal(
		dpf_s3_tg_day_key(NULL, "tg-flow-logs-2023-11-14.csv.gz", key, sizeof(key)), 0);
	assert_string_equal(key, "tg-flow-logs-2023-11-14.csv.gz");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dpf_s3_tg_day_key(bad[i].prefix, bad[i].rel, key, sizeof(key)),
				 -EINVAL);
	assert_int_equal(dpf_s3_tg_day_key(NULL, "tg-flow-logs-2023-11-14.csv.gz", key, 10),
			 -ENAMETOOLONG);
}

static char tmpdir[64];

static const char *
write_tmp(const char *name, const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void
test_s3_credentials_profiles_and_errors_never_quote_values(void **state)
{
	struct dpf_s3_credentials c;
	char err[256];
	const char *p;

	(void)state;
	strcpy(tmpdir, "/tmp/test_s3.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	p = write_tmp("creds", "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\n"
			       "aws_secret_access_key = " SECRET "\n\n"
			       "[profile probe]\naws_access_key_id=AKIDPROBE\n"
			       "aws_secret_access_key=s2\naws_session_token = tok/en+==\n");
	assert_int_equal(dpf_s3_credentials_load(p, NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c.access_key_id, "AKIDDEFAULT");
	assert_string_equal(c.secret_access_key, SECRET);
	assert_string_equal(c.session_token, "");
	assert_int_equal(dpf_s3_credentials_load(p, "probe", &c, err, sizeof(err)), 0);
	assert_string_equal(c.access_key_id, "AKIDPROBE");
	assert_string_equal(c.session_token, "tok/en+==");
	assert_int_equal(dpf_s3_credentials_load(p, "nosuch", &c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no such profile"));

	p = write_tmp("nosecret", "[default]\naws_access_key_id = AKID\n");
	assert_int_equal(dpf_s3_credentials_load(p, NULL, &c, err, sizeof(err)), -ENOENT);
	assert_string_equal(c.access_key_id, ""); /* wiped on failure */

	/* A secret pasted on a line of its own is a syntax error that names the line only. */
	p = write_tmp("pasted", "[default]\naws_access_key_id = AKID\n" SECRET "\n");
	assert_int_equal(dpf_s3_credentials_load(p, NULL, &c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":3:"));
	assert_null(strstr(err, SECRET));
	assert_null(strstr(err, "wJalr"));

	assert_true(dpf_s3_credentials_load("/nonexistent/creds", NULL, &c, err, sizeof(err)) ==
		    -ENOENT);
	dpf_s3_credentials_wipe(&c);
	assert_string_equal(c.secret_access_key, "");
	unlink(write_tmp("creds", ""));
	unlink(write_tmp("nosecret", ""));
	unlink(write_tmp("pasted", ""));
	rmdir(tmpdir);
}

static void
test_s3_backoff_doubles_caps_and_jitters_within_half(void **state)
{
	unsigned int a;

	(void)state;
	assert_int_equal(dpf_s3_backoff_ms(0, 1000, 60000, 7), 0);
	for (a = 1; a < 80; a++) {
		uint64_t full = 1000;
		unsigned int i;

		for (i = 1; i < a && full < 60000; i++)
			full *= 2;
		if (full > 60000)
			full = 60000;
		assert_int_equal(dpf_s3_backoff_ms(a, 1000, 60000, 0), full / 2);
		assert_true(dpf_s3_backoff_ms(a, 1000, 60000, UINT64_MAX) <= full);
		assert_true(dpf_s3_backoff_ms(a, 1000, 60000, 12345) >= full / 2);
	}
	assert_int_equal(dpf_s3_backoff_ms(200, 1000, UINT64_MAX, 0) > 0, 1);
}

static struct dpf_s3_credentials
creds(void)
{
	struct dpf_s3_credentials c;

	memset(&c, 0, sizeof(c));
	strcpy(c.access_key_id, "AKIDTEST");
	strcpy(c.secret_access_key, SECRET);
	return c;
}

static void
test_s3_create_rejects_bad_params(void **state)
{
	struct dpf_s3_credentials c = creds();
	struct dpf_s3_params p = {.endpoint = "http://127.0.0.1:9",
				  .bucket = "logs",
				  .region = "eu-west-1",
				  .creds = &c};
	struct dpf_s3 *s3;

	(void)state;
	s3 = dpf_s3_create(&p);
	assert_non_null(s3);
	dpf_s3_free(s3);
	p.bucket = "Logs";
	assert_null(dpf_s3_create(&p));
	assert_int_equal(rte_errno, EINVAL);
	p.bucket = "logs";
	p.endpoint = "ftp://x";
	assert_null(dpf_s3_create(&p));
	p.endpoint = "http://127.0.0.1:9";
	p.url_style = DPF_S3_URL_VIRTUAL; /* an IP cannot carry a bucket label */
	assert_null(dpf_s3_create(&p));
	p.endpoint = "http://localhost:9";
	s3 = dpf_s3_create(&p);
	assert_non_null(s3);
	dpf_s3_free(s3);
	c.secret_access_key[0] = '\0';
	assert_null(dpf_s3_create(&p));
	assert_null(dpf_s3_create(NULL));
	dpf_s3_free(NULL);
}

/* ---------------------------------------------------------------- server */

struct server {
	int listen_fd;
	uint16_t port;
	const char *reply; /* full HTTP response; NULL: close without answering */
	char request[16384];
	size_t request_len;
	pthread_t tid;
};

static void *
serve_one(void *arg)
{
	struct server *s = arg;
	int fd = accept(s->listen_fd, NULL, NULL);
	size_t body = 0, need = SIZE_MAX;
	char *hdr_end;

	if (fd < 0)
		return NULL;
	while (s->request_len < sizeof(s->request) - 1) {
		ssize_t n = recv(fd, s->request + s->request_len,
				 sizeof(s->request) - 1 - s->request_len, 0);

		if (n <= 0)
			break;
		s->request_len += (size_t)n;
		s->request[s->request_len] = '\0';
		hdr_end = strstr(s->request, "\r\n\r\n");
		if (hdr_end == NULL)
			continue;
		if (need == SIZE_MAX) {
			char *cl = strcasestr(s->request, "\r\ncontent-length:");

			need = cl != NULL ? strtoul(cl + 17, NULL, 10) : 0;
			if (strcasestr(s->request, "\r\nexpect: 100-continue") != NULL)
				send(fd, "HTTP/1.1 100 Continue\r\n\r\n", 25, MSG_NOSIGNAL);
		}
		body = s->request_len - (size_t)(hdr_end + 4 - s->request);
		if (body >= need)
			break;
	}
	if (s->reply != NULL)
		send(fd, s->reply, strlen(s->reply), MSG_NOSIGNAL);
	close(fd);
	return NULL;
}

static void
server_start(struct server *s, const char *reply)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->reply = reply;
	s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->listen_fd >= 0);
	assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s->listen_fd, 1), 0);
	assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&a, &al), 0);
	s->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&s->tid, NULL, serve_one, s), 0);
}

static void
server_join(struct server *s)
{
	pthread_join(s->tid, NULL);
	close(s->listen_fd);
}

static struct dpf_s3 *
client(uint16_t port, struct dpf_s3_credentials *c)
{
	char ep[64];
	struct dpf_s3_params p = {.endpoint = ep,
				  .bucket = "flow-logs",
				  .region = "eu-west-1",
				  .creds = c,
				  .connect_timeout_ms = 2000,
				  .stall_timeout_sec = 5};
	struct dpf_s3 *s3;

	snprintf(ep, sizeof(ep), "http://127.0.0.1:%u/", port);
	s3 = dpf_s3_create(&p);
	assert_non_null(s3);
	return s3;
}

static void
sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0, i;

	assert_int_equal(EVP_Digest(data, len, d, &dl, EVP_sha256(), NULL), 1);
	for (i = 0; i < dl; i++)
		sprintf(hex + 2 * i, "%02x", d[i]);
}

#define OK_REPLY "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

static void
test_s3_put_file_sends_signed_path_style_request_with_payload_hash(void **state)
{
	struct dpf_s3_credentials c = creds();
	struct dpf_s3_result res;
	struct server srv;
	struct dpf_s3 *s3;
	char path[] = "/tmp/test_s3_body.XXXXXX";
	char want[128], hex[65];
	static const char body[] = "version account-id\n2 1 - - - - - - - 1 2 - NODATA\n";
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, sizeof(body) - 1), (ssize_t)(sizeof(body) - 1));
	close(fd);
	server_start(&srv, OK_REPLY);
	s3 = client(srv.port, &c);
	assert_int_equal(dpf_s3_put_file(s3, "p/year=2019/a b+c.log", path, &res), 0);
	server_join(&srv);
	assert_int_equal(res.http_status, 200);
	/* S3's URI encoding: '=', ' ', '+' escaped, '/' kept. */
	assert_non_null(
		strstr(srv.request, "PUT /flow-logs/p/year%3D2019/a%20b%2Bc.log HTTP/1.1\r\n"));
	assert_non_null(
		strstr(srv.request, "Authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/"));
	assert_non_null(strstr(srv.request, "/eu-west-1/s3/aws4_request, SignedHeaders="));
	assert_non_null(strstr(srv.request, "x-amz-content-sha256;x-amz-date, Signature="));
	sha256_hex(body, sizeof(body) - 1, hex);
	snprintf(want, sizeof(want), "x-amz-content-sha256: %s\r\n", hex);
	assert_non_null(strstr(srv.request, want));
	assert_non_null(strstr(srv.request, "\r\n\r\n"
					    "version account-id\n"));
	/* The secret never travels. */
	assert_null(strstr(srv.request, SECRET));
	assert_null(strstr(srv.request, "wJalr"));
	dpf_s3_free(s3);
	unlink(path);
}

static void
test_s3_errors_map_to_errno_with_s3_code(void **state)
{
	struct dpf_s3_credentials c = creds();
	struct dpf_s3_result res;
	struct server srv;
	struct dpf_s3 *s3;
	static const char denied[] =
		"HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\n"
		"Connection: close\r\n\r\n<?xml version=\"1.0\"?><Error><Code>AccessDenied</Code>"
		"<Message>Access Denied</Message></Error>";
	static const char nobucket[] =
		"HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n"
		"<Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>\n";
	static const char busy[] =
		"HTTP/1.1 503 Slow Down\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

	(void)state;
	server_start(&srv, denied);
	s3 = client(srv.port, &c);
	assert_int_equal(dpf_s3_put_buffer(s3, "validation", NULL, 0, &res), -EACCES);
	server_join(&srv);
	assert_int_equal(res.http_status, 403);
	assert_string_equal(res.code, "AccessDenied");
	assert_string_equal(res.message, "Access Denied");
	/* An empty body hashes to SHA-256(""). */
	assert_non_null(strstr(srv.request, "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb9"
					    "2427ae41e4649b934ca495991b7852b855\r\n"));
	assert_non_null(strstr(srv.request, "Content-Length: 0\r\n"));
	dpf_s3_free(s3);

	server_start(&srv, nobucket);
	s3 = client(srv.port, &c);
	assert_int_equal(dpf_s3_put_buffer(s3, "k", "x", 1, &res), -ENOENT);
	server_join(&srv);
	assert_string_equal(res.code, "NoSuchBucket");
	dpf_s3_free(s3);

	server_start(&srv, busy);
	s3 = client(srv.port, &c);
	assert_int_equal(dpf_s3_put_buffer(s3, "k", "x", 1, &res), -EAGAIN);
	server_join(&srv);
	dpf_s3_free(s3);

	/* Connection closed without an answer. */
	server_start(&srv, NULL);
	s3 = client(srv.port, &c);
	assert_int_equal(dpf_s3_put_buffer(s3, "k", "x", 1, &res), -ECONNRESET);
	server_join(&srv);
	assert_int_equal(res.http_status, 0);
	dpf_s3_free(s3);
}

static void
test_s3_server_down_is_econnrefused(void **state)
{
	struct dpf_s3_credentials c = creds();
	struct dpf_s3_result res;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct dpf_s3 *s3;
	uint16_t port;

	(void)state;
	/* A port that was just free and has no listener. */
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	port = ntohs(a.sin_port);
	close(fd);
	s3 = client(port, &c);
	assert_int_equal(dpf_s3_put_buffer(s3, "k", "x", 1, &res), -ECONNREFUSED);
	assert_int_equal(res.http_status, 0);
	assert_true(res.message[0] != '\0');
	assert_int_equal(dpf_s3_put_file(s3, "k", "/nonexistent/file", &res), -ENOENT);
	dpf_s3_free(s3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s3_layout_parse_names),
		cmocka_unit_test(test_s3_prefix_rules),
		cmocka_unit_test(test_s3_object_key_in_each_layout),
		cmocka_unit_test(test_s3_ibm_object_key_keeps_ibm_key_under_prefix),
		cmocka_unit_test(test_s3_tg_day_key_is_under_prefix_and_checks_the_name),
		cmocka_unit_test(test_s3_object_key_rejects_paths_outside_the_layout),
		cmocka_unit_test(test_s3_credentials_profiles_and_errors_never_quote_values),
		cmocka_unit_test(test_s3_backoff_doubles_caps_and_jitters_within_half),
		cmocka_unit_test(test_s3_create_rejects_bad_params),
		cmocka_unit_test(
			test_s3_put_file_sends_signed_path_style_request_with_payload_hash),
		cmocka_unit_test(test_s3_errors_map_to_errno_with_s3_code),
		cmocka_unit_test(test_s3_server_down_is_econnrefused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
