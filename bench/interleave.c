/*-------------------------------------------------------------------------
 *
 * interleave.c
 *		Run one statement against several servers, alternating transaction
 *		by transaction, and report the throughput of each, side by side.
 *
 * pgbench runs one server at a time, so on a machine whose speed drifts
 * (a shared virtual machine changes speed by 30% for seconds at a time)
 * two pgbench runs a few seconds apart compare different machines.  This
 * driver opens one connection per target and, turn after turn, sends one
 * transaction to each target, in a new random order every turn (a
 * statement runs faster right after one on the same server, whose caches
 * are then warm), so every target sees the same machine.  Each target's
 * TPS is its transactions divided by the time spent in them, like
 * pgbench's "tps" without connection time.
 *
 * With -b n, each target runs n transactions in a row in its place of the
 * turn (default 1), with the same n values of :id: a server then runs its
 * own statements back to back, its caches warm, as a busy server does.
 *
 * Two backends of the same server doing the same work can differ by 5-10%
 * for as long as they live (where the address space randomisation puts
 * their memory).  So all connections are replaced every -r turns and each
 * target's figure averages many backends; the first -k transactions of
 * every new connection warm its caches and are not counted.
 *
 *	  interleave -M simple|prepared -T seconds -f sqlfile [-r turns] [-k n]
 *				 [-b n] conninfo [conninfo ...]
 *
 * The SQL file holds one statement in which ":id" stands for a random
 * integer from 1 to 1000 (the same values, in the same order, for every
 * target in a turn).
 * With -M prepared it is prepared once per connection with $1 for :id,
 * with -M simple the value is written into the text and sent with PQexec
 * (parsed and planned each time).
 *
 * Output: one line per target "tps <n> <tps>", then for each target after
 * the first "ratio <n> <median>" -- the median, over the connection
 * generations, of its TPS in the generation divided by the first target's
 * -- and "generations <count>".
 *
 * IDENTIFICATION
 *	  bench/interleave.c
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libpq-fe.h"

#define MAX_TARGETS 8
#define MAX_GENERATIONS 100000
#define MAX_BURST 1000

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
die(const char *what, PGconn *conn)
{
	fprintf(stderr, "interleave: %s: %s", what, conn ? PQerrorMessage(conn) : "\n");
	exit(1);
}

static char *
read_file(const char *path)
{
	FILE	   *f = fopen(path, "r");
	long		n;
	char	   *buf;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0)
		die("cannot read the SQL file", NULL);
	rewind(f);
	buf = malloc(n + 1);
	if (buf == NULL || fread(buf, 1, n, f) != (size_t) n)
		die("cannot read the SQL file", NULL);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Replace every ":id" in sql by repl (into out, of size outlen). */
static void
substitute(const char *sql, const char *repl, char *out, size_t outlen)
{
	size_t		o = 0;
	size_t		rl = strlen(repl);

	for (const char *p = sql; *p; p++)
	{
		if (p[0] == ':' && p[1] == 'i' && p[2] == 'd' &&
			!(p[3] >= 'a' && p[3] <= 'z') && !(p[3] >= '0' && p[3] <= '9') && p[3] != '_')
		{
			if (o + rl + 1 >= outlen)
				die("statement too long", NULL);
			memcpy(out + o, repl, rl);
			o += rl;
			p += 2;
			continue;
		}
		if (o + 2 >= outlen)
			die("statement too long", NULL);
		out[o++] = *p;
	}
	out[o] = '\0';
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a,
				y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Open connection i (prepared: prepare the statement as "s"). */
static PGconn *
connect_target(const char *conninfo, int prepared, const char *sql)
{
	PGconn	   *conn = PQconnectdb(conninfo);

	if (PQstatus(conn) != CONNECTION_OK)
		die("connection failed", conn);
	if (prepared)
	{
		char		text[8192];
		PGresult   *res;

		substitute(sql, "$1::int", text, sizeof(text));
		res = PQprepare(conn, "s", text, 1, NULL);
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			die("prepare failed", conn);
		PQclear(res);
	}
	return conn;
}

/* Run the statement once on conn; returns the seconds it took. */
static double
run_once(PGconn *conn, int prepared, const char *sql, long id)
{
	char		param[16];
	char		text[8192];
	const char *values[1] = {param};
	PGresult   *res;
	double		t0;
	double		t1;

	snprintf(param, sizeof(param), "%ld", id);
	if (!prepared)
		substitute(sql, param, text, sizeof(text));
	t0 = now_s();
	if (prepared)
		res = PQexecPrepared(conn, "s", 1, values, NULL, NULL, 0);
	else
		res = PQexec(conn, text);
	t1 = now_s();
	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
		PQresultStatus(res) != PGRES_COMMAND_OK)
		die("statement failed", conn);
	PQclear(res);
	return t1 - t0;
}

int
main(int argc, char **argv)
{
	int			prepared = 0;
	double		seconds = 10;
	long		turns_per_gen = 500;
	long		warm = 50;
	long		burst = 1;
	long		ids[MAX_BURST];
	const char *file = NULL;
	int			opt;
	int			n;
	PGconn	   *conns[MAX_TARGETS];
	double		spent[MAX_TARGETS] = {0};
	long		done[MAX_TARGETS] = {0};
	double		gspent[MAX_TARGETS];
	double	   *ratios[MAX_TARGETS];
	int			ngens = 0;
	char	   *sql;
	double		end;
	const char *usage = "usage: interleave -M simple|prepared -T secs -f file [-r turns] [-k n] [-b n] conninfo...";

	while ((opt = getopt(argc, argv, "M:T:f:r:k:b:")) != -1)
	{
		switch (opt)
		{
			case 'M':
				prepared = strcmp(optarg, "prepared") == 0;
				if (!prepared && strcmp(optarg, "simple") != 0)
					die("-M takes simple or prepared", NULL);
				break;
			case 'T':
				seconds = atof(optarg);
				break;
			case 'r':
				turns_per_gen = atol(optarg);
				break;
			case 'k':
				warm = atol(optarg);
				break;
			case 'b':
				burst = atol(optarg);
				break;
			case 'f':
				file = optarg;
				break;
			default:
				die(usage, NULL);
		}
	}
	n = argc - optind;
	if (file == NULL || n < 1 || n > MAX_TARGETS || seconds <= 0 ||
		turns_per_gen < 1 || warm < 0 || burst < 1 || burst > MAX_BURST)
		die(usage, NULL);
	sql = read_file(file);
	srandom(42);
	for (int i = 0; i < n; i++)
		ratios[i] = malloc(sizeof(double) * MAX_GENERATIONS);

	end = now_s() + seconds;
	while (now_s() < end && ngens < MAX_GENERATIONS)
	{
		/* a new generation: fresh backends for every target, warmed up */
		for (int i = 0; i < n; i++)
		{
			conns[i] = connect_target(argv[optind + i], prepared, sql);
			for (long w = 0; w < warm; w++)
				run_once(conns[i], prepared, sql, 1 + random() % 1000);
			gspent[i] = 0;
		}
		for (long t = 0; t < turns_per_gen; t++)
		{
			int			order[MAX_TARGETS];

			for (long b = 0; b < burst; b++)
				ids[b] = 1 + random() % 1000;

			/*
			 * A new random order every turn: a statement runs faster right
			 * after one on the same server (its caches are warm), so no
			 * target may always follow the same other target.
			 */
			for (int k = 0; k < n; k++)
				order[k] = k;
			for (int k = n - 1; k > 0; k--)
			{
				int			j = (int) (random() % (k + 1));
				int			tmp = order[k];

				order[k] = order[j];
				order[j] = tmp;
			}
			for (int k = 0; k < n; k++)
			{
				int			i = order[k];

				for (long b = 0; b < burst; b++)
				{
					double		d = run_once(conns[i], prepared, sql, ids[b]);

					spent[i] += d;
					gspent[i] += d;
					done[i]++;
				}
			}
		}
		for (int i = 0; i < n; i++)
		{
			ratios[i][ngens] = gspent[0] / gspent[i];
			PQfinish(conns[i]);
		}
		ngens++;
	}

	for (int i = 0; i < n; i++)
		printf("tps %d %.1f\n", i + 1, done[i] / spent[i]);
	for (int i = 1; i < n; i++)
	{
		qsort(ratios[i], ngens, sizeof(double), cmp_double);
		printf("ratio %d %.4f\n", i + 1,
			   ngens % 2 ? ratios[i][ngens / 2] :
			   (ratios[i][ngens / 2 - 1] + ratios[i][ngens / 2]) / 2);
	}
	printf("generations %d\n", ngens);
	return 0;
}
