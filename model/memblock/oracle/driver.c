/* The memblock oracle's driver: runs a `khospec memblock replay` trace on the
 * kernel's own mm/memblock.c, built in the kernel's userspace memblock
 * simulator (tools/testing/memblock) of a Debian linux-source tree by
 * scripts/memblock-oracle. It prints what the model's replay prints in its
 * kernel-comparison form: "# L<line>: <call>", then "=> <return value>", and
 * the final tables.
 *
 * Physical addresses are the trace's own: only __va()/__pa() add a host
 * window (the build patches them into the simulator's mm.h), so the sentinels
 * the kernel gives special meaning (0 = MEMBLOCK_ALLOC_ACCESSIBLE, 1 =
 * MEMBLOCK_ALLOC_NOLEAKTRACE, ~0 = MEMBLOCK_ALLOC_ANYWHERE) keep it. A harness
 * that moves the trace's addresses into the window instead changes what the
 * kernel does wherever one of them is computed from an address (e.g.
 * memblock_double_array()'s second lookup for a reservation at 0). */
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memblock.c"

#ifndef ORACLE_WINDOW
#error "build with scripts/memblock-oracle: the simulator's __va/__pa must add ORACLE_WINDOW"
#endif

/* What the simulator's test library (tests/common.c) would define. */
bool movable_node_enabled = false;
void *kmalloc(size_t size, gfp_t gfp) { (void)gfp; return malloc(size); }
void kfree(void *p) { free(p); }

/* The model's answer to a call this kernel does not have. */
#define ORACLE_ENOSYS (-38)

static unsigned long long num(const char *s) { return strtoull(s, NULL, 0); }

static void dump_type(struct memblock_type *t)
{
	printf("%s cnt=%lu max=%lu total_size=0x%llx\n", t->name, t->cnt, t->max,
	       (unsigned long long)t->total_size);
	for (unsigned long i = 0; i < t->cnt; i++)
		printf("%s[%lu] 0x%llx 0x%llx 0x%x %d\n", t->name, i,
		       (unsigned long long)t->regions[i].base, (unsigned long long)t->regions[i].size,
		       (unsigned)t->regions[i].flags, memblock_get_region_node(&t->regions[i]));
}

static void ret_ptr(void *p) { printf("=> 0x%llx\n", p ? (unsigned long long)__pa(p) : 0ULL); }
static void ret_int(int r) { printf("=> %d\n", r); }
static void ret_phys(phys_addr_t a) { printf("=> 0x%llx\n", (unsigned long long)a); }

int main(int argc, char **argv)
{
	/* The window: every physical address a trace may use is below 1 GiB. */
	if (mmap((void *)ORACLE_WINDOW, 1UL << 30, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0) == MAP_FAILED) {
		perror("memblock-oracle: mmap of the physical window");
		return 1;
	}
	FILE *f = argc > 1 ? fopen(argv[1], "r") : stdin;
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	char line[1024];
	int ln = 0;
	while (fgets(line, sizeof line, f)) {
		ln++;
		line[strcspn(line, "\r\n")] = 0;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		char *tok[12];
		int n = 0;
		for (char *s = strtok(line, " \t"); s && n < 12; s = strtok(NULL, " \t"))
			tok[n++] = s;
		if (!n)
			continue;
		const char *c = tok[0];
#define A(i) num(tok[i])
#define NID(i) ((int)strtol(tok[i], NULL, 0))
		if (!strcmp(c, "dump")) {
			dump_type(&memblock.memory);
			dump_type(&memblock.reserved);
			continue;
		}
		printf("# L%d:", ln);
		for (int i = 0; i < n; i++)
			printf(" %s", tok[i]);
		printf("\n");
		if (!strcmp(c, "era") || !strcmp(c, "allow_resize") || !strcmp(c, "bottom_up") ||
		    !strcmp(c, "set_current_limit") || !strcmp(c, "mirrored_kernelcore") ||
		    !strcmp(c, "trim_memory") || !strcmp(c, "set_kho_scratch_only") ||
		    !strcmp(c, "clear_kho_scratch_only")) {
			if (!strcmp(c, "allow_resize"))
				memblock_allow_resize();
			else if (!strcmp(c, "bottom_up"))
				memblock_set_bottom_up(A(1));
			else if (!strcmp(c, "set_current_limit"))
				memblock_set_current_limit(A(1));
			else if (!strcmp(c, "mirrored_kernelcore"))
				mirrored_kernelcore = A(1);
			else if (!strcmp(c, "trim_memory"))
				memblock_trim_memory(A(1));
#ifdef ORACLE_KHO
			else if (!strcmp(c, "set_kho_scratch_only"))
				memblock_set_kho_scratch_only();
			else if (!strcmp(c, "clear_kho_scratch_only"))
				memblock_clear_kho_scratch_only();
#endif
			puts("=> void");
		} else if (!strcmp(c, "add"))
			ret_int(memblock_add(A(1), A(2)));
		else if (!strcmp(c, "add_node"))
			ret_int(memblock_add_node(A(1), A(2), NID(3), n > 4 ? A(4) : 0));
		else if (!strcmp(c, "reserve"))
			ret_int(memblock_reserve(A(1), A(2)));
		else if (!strcmp(c, "reserve_kern"))
#ifdef ORACLE_KHO
			ret_int(__memblock_reserve(A(1), A(2), n > 3 ? NID(3) : NUMA_NO_NODE, MEMBLOCK_RSRV_KERN));
#else
			ret_int(ORACLE_ENOSYS);
#endif
		else if (!strcmp(c, "remove"))
			ret_int(memblock_remove(A(1), A(2)));
		else if (!strcmp(c, "free"))
			ret_int(memblock_phys_free(A(1), A(2)));
		else if (!strcmp(c, "mark_hotplug"))
			ret_int(memblock_mark_hotplug(A(1), A(2)));
		else if (!strcmp(c, "clear_hotplug"))
			ret_int(memblock_clear_hotplug(A(1), A(2)));
		else if (!strcmp(c, "mark_mirror"))
			ret_int(memblock_mark_mirror(A(1), A(2)));
		else if (!strcmp(c, "mark_nomap"))
			ret_int(memblock_mark_nomap(A(1), A(2)));
		else if (!strcmp(c, "clear_nomap"))
			ret_int(memblock_clear_nomap(A(1), A(2)));
#ifdef ORACLE_KHO
		else if (!strcmp(c, "mark_kho_scratch"))
			ret_int(memblock_mark_kho_scratch(A(1), A(2)));
		else if (!strcmp(c, "clear_kho_scratch"))
			ret_int(memblock_clear_kho_scratch(A(1), A(2)));
#endif
		else if (!strcmp(c, "mark_noinit"))
			ret_int(memblock_reserved_mark_noinit(A(1), A(2)));
		else if (!strcmp(c, "phys_alloc_range"))
			ret_phys(memblock_phys_alloc_range(A(1), A(2), A(3), A(4)));
		else if (!strcmp(c, "phys_alloc"))
			ret_phys(memblock_phys_alloc(A(1), A(2)));
		else if (!strcmp(c, "alloc_try_nid"))
			ret_ptr(memblock_alloc_try_nid(A(1), A(2), A(3), A(4), NID(5)));
		else if (!strcmp(c, "alloc_exact_nid_raw"))
			ret_ptr(memblock_alloc_exact_nid_raw(A(1), A(2), A(3), A(4), NID(5)));
		else if (!strcmp(c, "alloc_from"))
			ret_ptr(memblock_alloc_from(A(1), A(2), A(3)));
		else {
			printf("=> unsupported\n");
			fprintf(stderr, "memblock-oracle: L%d: '%s' is not driven by the oracle\n", ln, c);
			return 1;
		}
		fflush(stdout);
	}
	printf("# end of trace\n");
	dump_type(&memblock.memory);
	dump_type(&memblock.reserved);
	return 0;
}
