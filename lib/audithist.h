/* audithist: exact counts of unsigned integer values (seconds), for exact
 * percentiles. Memory is bounded by the number of distinct values, not by how
 * many were added: durations of a year of sessions fit in a few thousand
 * entries when TTLs are hours.
 *
 * Usage: audithist_add(h, v) ...; audithist_finish(h); then the queries. */
#ifndef AGENTD_AUDITHIST_H
#define AGENTD_AUDITHIST_H

#include <stddef.h>
#include <stdint.h>

struct audithist;

/* Returns NULL with errno ENOMEM. */
struct audithist	*audithist_new(void);
void			 audithist_free(struct audithist *);
/* Counts v once more (n times). 0, or -1 with errno ENOMEM. Not after finish. */
int			 audithist_add(struct audithist *, uint64_t v);
int			 audithist_addn(struct audithist *, uint64_t v, uint64_t n);
/* Sorts the values; queries below need it. 0 or -1 (ENOMEM). */
int			 audithist_finish(struct audithist *);

uint64_t		 audithist_count(const struct audithist *);
/* Nearest-rank percentile: the smallest value v such that at least
 * ceil(permille * count / 1000) values are <= v (permille 500 = p50,
 * 1000 = max). 0 when empty. */
uint64_t		 audithist_quantile(const struct audithist *,
			    unsigned permille);
/* How many values lie in [lo, hi). */
uint64_t		 audithist_count_range(const struct audithist *,
			    uint64_t lo, uint64_t hi);
/* Distinct values in increasing order: i < audithist_ndistinct. */
size_t			 audithist_ndistinct(const struct audithist *);
void			 audithist_distinct(const struct audithist *, size_t i,
			    uint64_t *value, uint64_t *count);

#endif
