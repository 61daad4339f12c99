// SPDX-License-Identifier: GPL-2.0
/*
 * The executable the spawn benchmark (bench_spawn.c) starts: it exits 0 at
 * once. No libc, no dynamic loader, one page of code: what a start costs
 * is the start method's and the exec's, not the program's.
 *
 * Built with -nostdlib -static (tests/guest/Makefile); x86_64 only, like
 * the spawn-template syscalls.
 */
#include <asm/unistd.h>

#ifndef __x86_64__
#error "bench_true is x86_64 only"
#endif

void _start(void) __attribute__((noreturn, used));

void _start(void)
{
	asm volatile("syscall"
		     :
		     : "a"(__NR_exit_group), "D"(0)
		     : "rcx", "r11", "memory");
	__builtin_unreachable();
}
