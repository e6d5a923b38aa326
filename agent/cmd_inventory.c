/*
 * cmd_inventory.c - `tenken scan|gate --inventory DIR --out OUT`: scan every
 * partner config in DIR with bounded parallelism, under one global deadline,
 * with the per-host politeness budget shared by all partners; one summary
 * line per partner; a lock so overlapping runs of one inventory cannot happen.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "budget.h"
#include "cli.h"
#include "report.h"
#include "scan.h"

struct partner_job {
	char *config;      /* DIR/name.json */
	char *name;        /* name without .json: the output subdirectory */
	int exit_code;
	bool started, done;
	int64_t ms;
};

struct inventory {
	const struct tk_scan_opts *o;
	struct partner_job *jobs;
	size_t n, next, done;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool tty;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_configs(const char *dir, char ***out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t k = 0, cap = 0;
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 6 || e->d_name[0] == '.' || strcmp(e->d_name + l - 5, ".json") != 0)
			continue;
		if (k + 1 >= cap) {
			char **nv;
			cap = cap ? cap * 2 : 64;
			if (!(nv = realloc(v, cap * sizeof(*v)))) {
				closedir(d);
				tk_strv_free(v);
				return -1;
			}
			v = nv;
		}
		v[k++] = strdup(e->d_name);
		v[k] = NULL;
	}
	closedir(d);
	if (k)
		qsort(v, k, sizeof(*v), cmp_str);
	*out = v;
	*n = k;
	return 0;
}

static int jint(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valueint : 0;
}

/* Summary of one partner's scan, from the report document the scan returned. */
static void summarise(const struct partner_job *j, const cJSON *r, char *line, size_t size)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "summary"), "items");
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "gate"), "verdict");
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(r, "partner"), "id");
	if (!r) {
		snprintf(line, size, "%s: exit %d, no report (see the messages above)", j->name, j->exit_code);
		return;
	}
	snprintf(line, size, "%s (%s): verdict %s, %d fail, %d pass, %d incomplete, %d manual, complete %s, %.1f s, exit %d",
		 j->name, cJSON_IsString(pid) ? pid->valuestring : "?", cJSON_IsString(g) ? g->valuestring : "?",
		 jint(s, "fail"),
		 jint(s, "pass"),
		 jint(s, "incomplete"),
		 jint(s, "manual"),
		 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "complete")) ? "yes" : "no", (double)j->ms / 1000.0,
		 j->exit_code);
}

static void *worker(void *arg)
{
	struct inventory *inv = arg;
	for (;;) {
		struct partner_job *j;
		struct tk_scan_opts so;
		struct tk_scan_result res;
		char out[PATH_MAX], line[512];
		int64_t t0;
		pthread_mutex_lock(&inv->lock);
		if (inv->next >= inv->n || tk_stop_requested) {
			pthread_mutex_unlock(&inv->lock);
			return NULL;
		}
		j = &inv->jobs[inv->next++];
		j->started = true;
		if (inv->tty && !inv->o->quiet)
			fprintf(stderr, "\r\033[K[%zu/%zu done] scanning %s", inv->done, inv->n, j->name);
		pthread_mutex_unlock(&inv->lock);

		so = *inv->o;
		snprintf(out, sizeof(out), "%s/%s", inv->o->out_dir, j->name);
		so.config = j->config;
		so.out_dir = out;
		so.quiet = true;
		so.print_items = false;
		so.progress = false;
		so.inventory = NULL;
		so.budget_from_cli = true;
		t0 = tk_now_ms();
		j->exit_code = tk_scan_run(&so, &res);
		j->ms = tk_now_ms() - t0;
		summarise(j, res.report, line, sizeof(line));
		tk_scan_result_free(&res);

		pthread_mutex_lock(&inv->lock);
		j->done = true;
		inv->done++;
		if (!inv->o->quiet) {
			if (inv->tty)
				fputs("\r\033[K", stderr);
			printf("tenken: %s\n", line);
			fflush(stdout);
		}
		pthread_cond_broadcast(&inv->changed);
		pthread_mutex_unlock(&inv->lock);
	}
}

/* The lock file for an inventory: one per real path, in the runtime directory. */
static int take_lock(const char *dir, char *path, size_t size)
{
	char real[PATH_MAX], hex[65];
	unsigned char h[32];
	const char *rt = getenv("XDG_RUNTIME_DIR");
	int fd;
	if (!realpath(dir, real))
		return -2;
	tk_sha256(real, strlen(real), h);
	tk_hex(h, 8, hex);
	snprintf(path, size, "%s/tenken-inventory-%s.lock", rt && *rt ? rt : "/tmp", hex);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -2;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		close(fd);
		return -1;
	}
	if (ftruncate(fd, 0) == 0) {
		char pid[32];
		int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		(void)!write(fd, pid, (size_t)n);
	}
	return fd; /* held until the process exits */
}

static int rank(int code)
{
	/* overall exit code: a failed control first, then operator errors, then missing evidence */
	switch (code) {
	case TK_EXIT_FAIL: return 5;
	case TK_EXIT_USAGE: return 4;
	case TK_EXIT_ERROR: return 3;
	case TK_EXIT_INCOMPLETE: return 2;
	case TK_EXIT_OK: return 0;
	default: return 1;
	}
}

int tk_inventory_run(const struct tk_scan_opts *o)
{
	struct inventory inv;
	pthread_t *threads = NULL;
	char **names = NULL, lockpath[PATH_MAX];
	struct tk_err err = {0};
	size_t n = 0, i;
	int lockfd, nthreads, overall = TK_EXIT_OK, rc = TK_EXIT_ERROR;
	int64_t deadline;

	memset(&inv, 0, sizeof(inv));
	if (list_configs(o->inventory, &names, &n) != 0) {
		fprintf(stderr, "tenken: --inventory %s: %s\n", o->inventory, strerror(errno));
		return TK_EXIT_USAGE;
	}
	if (n == 0) {
		fprintf(stderr, "tenken: --inventory %s: no partner configs (*.json)\n", o->inventory);
		tk_strv_free(names);
		return TK_EXIT_USAGE;
	}
	lockfd = take_lock(o->inventory, lockpath, sizeof(lockpath));
	if (lockfd == -1) {
		fprintf(stderr, "tenken: another tenken run is scanning inventory %s (lock %s held); exiting\n",
			o->inventory, lockpath);
		tk_strv_free(names);
		return TK_EXIT_LOCKED;
	}
	if (lockfd < 0) {
		fprintf(stderr, "tenken: cannot create the inventory lock %s: %s\n", lockpath, strerror(errno));
		tk_strv_free(names);
		return TK_EXIT_ERROR;
	}
	if (tk_mkdirs(o->out_dir, 0755, &err)) {
		fprintf(stderr, "tenken: %s\n", err.msg);
		goto out;
	}
	tk_budget_set(o->host_conns, o->host_rate);
	inv.o = o;
	{ /* alerts for the whole inventory (desk): DIR/notify.json when there is one */
		static char nf[PATH_MAX];
		static struct tk_scan_opts o2;
		snprintf(nf, sizeof(nf), "%s/notify.json", o->inventory);
		if (access(nf, F_OK) == 0) {
			o2 = *o;
			o2.notify_file = nf;
			inv.o = &o2;
		}
	}
	inv.n = n;
	inv.tty = isatty(2);
	pthread_mutex_init(&inv.lock, NULL);
	pthread_cond_init(&inv.changed, NULL);
	if (!(inv.jobs = calloc(n, sizeof(*inv.jobs))))
		goto out;
	for (i = 0; i < n; i++) {
		inv.jobs[i].config = tk_path_join(o->inventory, names[i]);
		inv.jobs[i].name = strndup(names[i], strlen(names[i]) - 5);
		if (!inv.jobs[i].config || !inv.jobs[i].name)
			goto out;
	}
	nthreads = o->parallel < (int)n ? o->parallel : (int)n;
	if (!(threads = calloc((size_t)nthreads, sizeof(*threads))))
		goto out;
	for (i = 0; i < (size_t)nthreads; i++)
		pthread_create(&threads[i], NULL, worker, &inv);

	/* Watch the global deadline: past it, stop everything in flight. */
	deadline = o->deadline_s ? tk_now_ms() + (int64_t)o->deadline_s * 1000 : INT64_MAX;
	pthread_mutex_lock(&inv.lock);
	while (inv.done < inv.n && !(tk_stop_requested && inv.next >= inv.n)) {
		struct timespec ts;
		bool all_started_done = true;
		if (tk_now_ms() >= deadline && !tk_stop_requested) {
			tk_log(TK_LOG_WARN, "inventory deadline of %d s reached: stopping", o->deadline_s);
			tk_stop_requested = 1;
		}
		for (i = 0; i < n; i++)
			if (inv.jobs[i].started && !inv.jobs[i].done)
				all_started_done = false;
		if (tk_stop_requested && all_started_done)
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&inv.changed, &inv.lock, &ts);
	}
	pthread_mutex_unlock(&inv.lock);
	for (i = 0; i < (size_t)nthreads; i++)
		pthread_join(threads[i], NULL);
	if (inv.tty && !o->quiet)
		fputs("\r\033[K", stderr);

	for (i = 0; i < n; i++) {
		int code = inv.jobs[i].done ? inv.jobs[i].exit_code : TK_EXIT_INCOMPLETE;
		if (!inv.jobs[i].started && !o->quiet)
			printf("tenken: %s: not scanned (stopped before its turn)\n", inv.jobs[i].name);
		if (rank(code) > rank(overall))
			overall = code;
	}
	{
		int counts[6] = {0};
		for (i = 0; i < n; i++) {
			int code = inv.jobs[i].done ? inv.jobs[i].exit_code : TK_EXIT_INCOMPLETE;
			if (code >= 0 && code < 6)
				counts[code]++;
		}
		if (!o->quiet)
			printf("tenken: inventory %s: %zu partners: %d ok, %d failing, %d incomplete, %d config errors, "
			       "%d errors; peak connections to one host %d (budget %d); exit %d\n",
			       o->inventory, n, counts[0], counts[1], counts[3], counts[2], counts[4],
			       tk_budget_peak_any(), o->host_conns ? o->host_conns : TK_BUDGET_DEFAULT_CONNS, overall);
	}
	rc = overall;
out:
	for (i = 0; inv.jobs && i < n; i++) {
		free(inv.jobs[i].config);
		free(inv.jobs[i].name);
	}
	free(inv.jobs);
	free(threads);
	tk_strv_free(names);
	close(lockfd);
	return rc;
}
