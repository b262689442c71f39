/* metrics: shards summed across threads, histograms, exposition text. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "metrics.h"
#include "tap.h"

#define NTHREADS 8
#define NADDS 100000

static struct metrics *shared;

static void *
adder(void *arg)
{
	struct metrics_shard *s = metrics_shard(shared);

	(void)arg;
	for (int i = 0; i < NADDS; i++) {
		metrics_shard_add(s, 0, 1);
		metrics_add(shared, 1, 2);
	}
	return NULL;
}

static void
test_threads(void)
{
	pthread_t t[NTHREADS];
	uint64_t all[3];

	shared = metrics_new(3);
	/* Two rounds: the second reuses the shards the first left. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < NTHREADS; i++)
			pthread_create(&t[i], NULL, adder, NULL);
		for (int i = 0; i < NTHREADS; i++)
			pthread_join(t[i], NULL);
	}
	is_int((int64_t)metrics_sum(shared, 0), 2 * NTHREADS * NADDS,
	    "every add of every thread is in the sum");
	metrics_sum_all(shared, all);
	is_int((int64_t)all[1], 4 * NTHREADS * NADDS, "sum_all agrees");
	is_int((int64_t)all[2], 0, "an untouched slot is 0");
	is_int((int64_t)metrics_sum(shared, 7), 0, "a slot out of range is 0");
	metrics_add(shared, 9, 1); /* ignored, not a crash */
	metrics_free(&shared);
	ok(shared == NULL, "free clears the pointer");
}

static void
test_hist(void)
{
	static const double le[] = { 0.001, 0.01, 0.1 };
	static const double bad[] = { 0.01, 0.001 };
	struct metrics_buckets b;
	struct metrics *m = metrics_new(METRICS_HIST_SLOTS(3));
	uint64_t v[METRICS_HIST_SLOTS(3)];
	struct metrics_label l[] = { { "map", "vir\"tual\\\n" } };
	struct buf out;

	ok(metrics_buckets_init(&b, bad, 2) == -1, "bounds must increase");
	ok(metrics_buckets_init(&b, le, 0) == -1, "no bounds is an error");
	ok(metrics_buckets_init(&b, le, 3) == 0, "bounds accepted");
	metrics_observe(m, 0, &b, 500000);     /* 0.5 ms */
	metrics_observe(m, 0, &b, 1000000);    /* 1 ms: le is inclusive */
	metrics_observe(m, 0, &b, 50000000);   /* 50 ms */
	metrics_observe(m, 0, &b, 2000000000); /* 2 s: +Inf */
	metrics_sum_all(m, v);
	is_int((int64_t)v[0], 2, "two in le=0.001");
	is_int((int64_t)v[1], 0, "none in le=0.01 alone");
	is_int((int64_t)v[2], 1, "one in le=0.1 alone");
	is_int((int64_t)v[3], 1, "one beyond");
	is_int((int64_t)v[4], 2051500000, "sum in ns");
	is_int((int64_t)v[5], 4, "count");

	buf_init(&out, 65536);
	metrics_write_family(
	    &out, "x_seconds", METRICS_HISTOGRAM, "a help\\text\nsplit");
	metrics_write_hist(&out, "x_seconds", l, 1, &b, v);
	is_str(buf_cstr(&out),
	    "# HELP x_seconds a help\\\\text\\nsplit\n"
	    "# TYPE x_seconds histogram\n"
	    "x_seconds_bucket{map=\"vir\\\"tual\\\\\\n\",le=\"0.001\"} 2\n"
	    "x_seconds_bucket{map=\"vir\\\"tual\\\\\\n\",le=\"0.01\"} 2\n"
	    "x_seconds_bucket{map=\"vir\\\"tual\\\\\\n\",le=\"0.1\"} 3\n"
	    "x_seconds_bucket{map=\"vir\\\"tual\\\\\\n\",le=\"+Inf\"} 4\n"
	    "x_seconds_sum{map=\"vir\\\"tual\\\\\\n\"} 2.0515\n"
	    "x_seconds_count{map=\"vir\\\"tual\\\\\\n\"} 4\n",
	    "histogram text, cumulative, escaped");
	buf_reset(&out);
	metrics_write_family(&out, "y_total", METRICS_COUNTER, "y");
	metrics_write_u64(&out, "y_total", NULL, 0, 18446744073709551615u);
	metrics_write_family(&out, "z", METRICS_GAUGE, "z");
	metrics_write_double(&out, "z", l, 0, 0.25);
	is_str(buf_cstr(&out),
	    "# HELP y_total y\n# TYPE y_total counter\n"
	    "y_total 18446744073709551615\n"
	    "# HELP z z\n# TYPE z gauge\nz 0.25\n",
	    "counter and gauge text");
	buf_release(&out);
	metrics_free(&m);
}

int
main(void)
{
	test_threads();
	test_hist();
	return done_testing();
}
