#ifndef LKMRUN_HOST_H
#define LKMRUN_HOST_H
/* Keeps lkmrun's references to the C library's data objects, so that the link gives lkmrun
 * copies of them (copy relocations) in its own low data: a -fno-pic or -mcmodel=kernel module,
 * mapped below 2 GiB, reaches those copies with 32-bit references, and the C library itself uses
 * them too. Returns how many there are. */
int lkmrun_host_data_count(void);
#endif
