/* msgscribble: with lkmd --host-symbols, finds the memory the kernel process shares with its
 * supervisor (/proc/self/maps: memfd:lkm-msgbuf) and overwrites the message buffer's time
 * records (what lkmctl dmesg -T reads): every record with noise, then a few forged ones whose
 * check word matches but whose fields do not make sense, and the record counter near its end.
 * Its load then succeeds: the readers must cope with what it left. */
#include "attack.h"
/* The layout itself, from the file the kernel and the supervisor are built with (gcc has no
 * nullability qualifiers). */
#define _Nonnull
#define _Nullable
#include "../../../Sources/CMsgbuf/include/lkmshared.h"

extern void *fopen(const char *, const char *);
extern char *fgets(char *, int, void *);
extern int fclose(void *);
extern char *strstr(const char *, const char *);

/* The check word, as CMsgbuf computes it (a module that knows the format can forge it). */
static uint32_t
check(uint64_t at, int64_t ns, uint32_t length)
{
	uint64_t h = at * 0x9e3779b97f4a7c15u ^ (uint64_t)ns * 0xc2b2ae3d27d4eb4fu ^ length;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9u;
	h ^= h >> 32;
	return (uint32_t)h | 1u;
}

static lkm_shared_t *
find_shared(void)
{
	char line[512];
	lkm_shared_t *found = 0;
	void *maps = fopen("/proc/self/maps", "r");
	if (maps == 0)
		return 0;
	while (fgets(line, sizeof line, maps) != 0) {
		if (strstr(line, "lkm-msgbuf") == 0)
			continue;
		unsigned long start = 0;
		for (char *c = line; *c != '-'; c++)
			start = start * 16 + (*c <= '9' ? *c - '0' : *c - 'a' + 10);
		found = (lkm_shared_t *)start;
		break;
	}
	fclose(maps);
	return found != 0 && found->magic == LKM_SHARED_MAGIC ? found : 0;
}

static void
forge(lkm_shared_t *shared, int slot, uint64_t at, uint32_t length, int64_t ns)
{
	lkm_msgbuf_stamp_t *s = &shared->stamps[slot];
	s->at = at;
	s->length = length;
	s->ns = ns;
	s->check = check(at, ns, length);
}

static int
attack(void)
{
	lkm_shared_t *shared = find_shared();
	if (shared == 0)
		return ENOENT;
	uint64_t x = 0x2545f4914f6cdd1du;
	unsigned char *bytes = (unsigned char *)shared->stamps;
	for (unsigned long i = 0; i < sizeof shared->stamps; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		bytes[i] = (unsigned char)x;
	}
	uint64_t written = shared->msg_written;
	forge(shared, 0, written - 10, 0xffffffffu, 1);          /* longer than the buffer */
	forge(shared, 1, ~0ul - 2, 100, 2);                      /* past the end of positions */
	forge(shared, 2, written - 1, 1, (int64_t)(~0ul >> 1));  /* the year 2262, no line start */
	forge(shared, 3, written > 200 ? written - 200 : 0, 200, -1); /* before 1970 */
	forge(shared, 4, written + 4096, 7, 5);                  /* not written yet */
	shared->stamps_written = ~0ul - 3;
	printf("msgscribble: done\n");
	return 0;
}
ATTACK_MODULE(msgscribble)
