/*
 * pool: backend worker threads with a per-table cap.
 */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pool.h"
#include "xalloc.h"
#include "banned.h"

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t work; /* a job may be eligible */
	pthread_cond_t gone; /* a thread exited */
	struct pool_job *head;
	struct pool_job *tail;
	int queued;
	int threads;
	int idle;
	int wakeups; /* idle threads signalled, not yet up */
	int max_threads;
	int per_table_max;
	bool stop;
	void (*thread_init)(void);
	void (*idle_hook)(void);
};

/* The first queued job whose table is below its cap (lock held). */
static struct pool_job *
take(struct pool *p)
{
	struct pool_job **pp, *j;

	for (pp = &p->head; (j = *pp) != NULL; pp = &j->next) {
		if (j->inflight != NULL &&
		    atomic_load(j->inflight) >= p->per_table_max)
			continue;
		*pp = j->next;
		if (p->tail == j)
			p->tail = pp == &p->head
			    ? NULL
			    : (struct pool_job *)(void *)((char *)pp -
				  offsetof(struct pool_job, next));
		j->next = NULL;
		p->queued--;
		return j;
	}
	return NULL;
}

/* The next queued job of the same table (lock held), or NULL. */
static struct pool_job *
take_same(struct pool *p, _Atomic int *inflight)
{
	struct pool_job **pp, *j, *prev = NULL;

	if (inflight == NULL)
		return NULL;
	for (pp = &p->head; (j = *pp) != NULL; prev = j, pp = &j->next) {
		if (j->inflight != inflight)
			continue;
		*pp = j->next;
		if (p->tail == j)
			p->tail = prev;
		j->next = NULL;
		p->queued--;
		return j;
	}
	return NULL;
}

static void *
worker(void *arg)
{
	struct pool *p = arg;

	if (p->thread_init != NULL)
		p->thread_init();
	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct pool_job *j, *first;
		_Atomic int *counter;

		if (p->stop)
			break;
		if ((j = take(p)) == NULL) {
			p->idle++;
			pthread_cond_wait(&p->work, &p->lock);
			p->idle--;
			if (p->wakeups > 0)
				p->wakeups--;
			continue;
		}
		first = j;
		counter = j->inflight;
		if (counter != NULL)
			atomic_fetch_add(counter, 1);
		/* The job, then more of its table while there are any. */
		for (int n = 0; j != NULL; n++) {
			pthread_mutex_unlock(&p->lock);
			j->run(j);
			if (j != first)
				j->release(j);
			pthread_mutex_lock(&p->lock);
			j = n + 1 < POOL_BATCH && !p->stop
			    ? take_same(p, counter)
			    : NULL;
		}
		pthread_mutex_unlock(&p->lock);
		if (p->idle_hook != NULL)
			p->idle_hook();
		if (counter != NULL)
			atomic_fetch_sub(counter, 1);
		first->release(first); /* the counter may go with it */
		pthread_mutex_lock(&p->lock);
		/* A job held back by the cap may now run. */
		if (counter != NULL && p->queued > 0 && p->idle > p->wakeups) {
			pthread_cond_signal(&p->work);
			p->wakeups++;
		}
	}
	p->threads--;
	pthread_cond_broadcast(&p->gone);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void
spawn(struct pool *p)
{
	pthread_attr_t attr;
	pthread_t th;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 1024 * 1024);
	if (pthread_create(&th, &attr, worker, p) == 0)
		p->threads++;
	else
		log_warnx("cannot start a backend thread");
	pthread_attr_destroy(&attr);
}

struct pool *
pool_new(int min_threads, int max_threads, int per_table_max,
    void (*thread_init)(void), void (*idle)(void))
{
	struct pool *p = xcalloc(1, sizeof(*p));

	p->thread_init = thread_init;
	p->idle_hook = idle;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->gone, NULL);
	p->max_threads = max_threads < min_threads ? min_threads : max_threads;
	p->per_table_max = per_table_max > 0 ? per_table_max : 1;
	pthread_mutex_lock(&p->lock);
	for (int i = 0; i < min_threads; i++)
		spawn(p);
	pthread_mutex_unlock(&p->lock);
	return p;
}

/*
 * Queue one job and wake (or start) a thread for it (lock held).  An idle
 * thread already signalled but not yet running counts as busy: waking it
 * twice would wake it once, and the job would wait, behind jobs of a
 * table at its cap, for a thread that never comes.
 */
static void
enqueue(struct pool *p, struct pool_job *j)
{
	int ahead = 0;

	/* Jobs of this table already waiting (the queue is short). */
	if (j->inflight != NULL)
		for (struct pool_job *q = p->head; q != NULL; q = q->next)
			if (q->inflight == j->inflight)
				ahead++;
	j->next = NULL;
	if (p->tail != NULL)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	p->queued++;
	/* A job its table's cap holds back needs no thread yet. */
	if (j->inflight != NULL &&
	    atomic_load(j->inflight) + ahead >= p->per_table_max)
		return;
	if (p->idle > p->wakeups) {
		pthread_cond_signal(&p->work);
		p->wakeups++;
	} else if (p->threads < p->max_threads)
		spawn(p);
}

void
pool_submit(struct pool *p, struct pool_job *j)
{
	pthread_mutex_lock(&p->lock);
	enqueue(p, j);
	pthread_mutex_unlock(&p->lock);
}

void
pool_submit_list(struct pool *p, struct pool_job *j)
{
	pthread_mutex_lock(&p->lock);
	while (j != NULL) {
		struct pool_job *next = j->next;

		enqueue(p, j);
		j = next;
	}
	pthread_mutex_unlock(&p->lock);
}

bool
pool_stop(struct pool *p, int64_t wait_ms)
{
	struct timespec until;
	bool all;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += wait_ms / 1000;
	until.tv_nsec += (wait_ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	while (p->threads > 0)
		if (pthread_cond_timedwait(&p->gone, &p->lock, &until) ==
		    ETIMEDOUT)
			break;
	all = p->threads == 0;
	pthread_mutex_unlock(&p->lock);
	if (!all)
		return false;
	/* Jobs never started are dropped with the pool. */
	while (p->head != NULL) {
		struct pool_job *j = p->head;

		p->head = j->next;
		j->next = NULL;
		j->cancel(j);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->gone);
	free(p);
	return true;
}

void
pool_counts(struct pool *p, int *threads_r, int *busy_r, int *queued_r)
{
	pthread_mutex_lock(&p->lock);
	*threads_r = p->threads;
	*busy_r = p->threads - p->idle;
	*queued_r = p->queued;
	pthread_mutex_unlock(&p->lock);
}
