/* audithist: exact value counts and nearest-rank percentiles. See audithist.h. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "audithist.h"

struct audithist_slot {
	uint64_t	 value;
	uint64_t	 count;		/* 0: empty slot (before finish) */
};

struct audithist {
	struct audithist_slot	*slots;
	size_t			 nslots;	/* a power of two */
	size_t			 used;
	uint64_t		 total;
	bool			 sorted;	/* slots[0..used) sorted, cumulative */
};

static size_t
hist_index(uint64_t v, size_t n)
{
	v ^= v >> 33;
	v *= 0xff51afd7ed558ccdULL;
	v ^= v >> 33;
	return (size_t)v & (n - 1);
}

struct audithist *
audithist_new(void)
{
	struct audithist *h;

	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->nslots = 64;
	if ((h->slots = calloc(h->nslots, sizeof(*h->slots))) == NULL) {
		free(h);
		return NULL;
	}
	return h;
}

void
audithist_free(struct audithist *h)
{
	if (h == NULL)
		return;
	free(h->slots);
	free(h);
}

static int
hist_grow(struct audithist *h)
{
	struct audithist_slot *ns;
	size_t n = h->nslots * 2, i, j;

	if ((ns = calloc(n, sizeof(*ns))) == NULL)
		return -1;
	for (i = 0; i < h->nslots; i++) {
		if (h->slots[i].count == 0)
			continue;
		for (j = hist_index(h->slots[i].value, n); ns[j].count != 0;
		    j = (j + 1) & (n - 1))
			;
		ns[j] = h->slots[i];
	}
	free(h->slots);
	h->slots = ns;
	h->nslots = n;
	return 0;
}

int
audithist_addn(struct audithist *h, uint64_t v, uint64_t n)
{
	size_t j;

	if (h->sorted) {
		errno = EINVAL;
		return -1;
	}
	if (n == 0)
		return 0;
	for (j = hist_index(v, h->nslots); h->slots[j].count != 0;
	    j = (j + 1) & (h->nslots - 1)) {
		if (h->slots[j].value == v) {
			h->slots[j].count += n;
			h->total += n;
			return 0;
		}
	}
	h->slots[j].value = v;
	h->slots[j].count = n;
	h->total += n;
	if (++h->used * 4 > h->nslots * 3)
		return hist_grow(h);
	return 0;
}

int
audithist_add(struct audithist *h, uint64_t v)
{
	return audithist_addn(h, v, 1);
}

static int
slot_cmp(const void *a, const void *b)
{
	const struct audithist_slot *x = a, *y = b;

	return (x->value > y->value) - (x->value < y->value);
}

int
audithist_finish(struct audithist *h)
{
	size_t i, k = 0;
	uint64_t cum = 0;

	if (h->sorted)
		return 0;
	for (i = 0; i < h->nslots; i++) {
		if (h->slots[i].count != 0)
			h->slots[k++] = h->slots[i];
	}
	qsort(h->slots, k, sizeof(*h->slots), slot_cmp);
	/* count becomes the cumulative count up to and including value. */
	for (i = 0; i < k; i++) {
		cum += h->slots[i].count;
		h->slots[i].count = cum;
	}
	h->used = k;
	h->sorted = true;
	return 0;
}

uint64_t
audithist_count(const struct audithist *h)
{
	return h->total;
}

size_t
audithist_ndistinct(const struct audithist *h)
{
	return h->used;
}

void
audithist_distinct(const struct audithist *h, size_t i, uint64_t *value,
    uint64_t *count)
{
	*value = h->slots[i].value;
	*count = h->slots[i].count - (i > 0 ? h->slots[i - 1].count : 0);
}

/* Index of the first slot whose cumulative count is >= rank. */
static size_t
hist_rank(const struct audithist *h, uint64_t rank)
{
	size_t lo = 0, hi = h->used, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (h->slots[mid].count < rank)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

uint64_t
audithist_quantile(const struct audithist *h, unsigned permille)
{
	unsigned __int128 r;
	uint64_t rank;

	if (!h->sorted || h->total == 0)
		return 0;
	if (permille > 1000)
		permille = 1000;
	r = ((unsigned __int128)h->total * permille + 999) / 1000;
	rank = r == 0 ? 1 : (uint64_t)r;
	return h->slots[hist_rank(h, rank)].value;
}

/* Values < v. */
static uint64_t
hist_below(const struct audithist *h, uint64_t v)
{
	size_t lo = 0, hi = h->used, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (h->slots[mid].value < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? 0 : h->slots[lo - 1].count;
}

uint64_t
audithist_count_range(const struct audithist *h, uint64_t lo, uint64_t hi)
{
	if (!h->sorted || hi <= lo)
		return 0;
	return hist_below(h, hi) - hist_below(h, lo);
}
