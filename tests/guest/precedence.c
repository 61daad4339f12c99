// SPDX-License-Identifier: GPL-2.0
/*
 * The error precedence of spawn_template_create(), as one table: each row
 * is a file for which two refusals hold at once, and the contract names
 * the one that wins (spec 1.1: EBADF/ENOENT, then EACCES, then ETXTBSY,
 * then ENOEXEC, as execve()). One row per pair that can hold together,
 * for each origin where it can:
 *
 *   EBADF   + EACCES/ETXTBSY/ENOEXEC  execfd only: an O_PATH fd of the file
 *   ENOENT  + EACCES                  path only: missing, on a noexec mount
 *   (ENOENT + ETXTBSY/ENOEXEC cannot hold: there is no file to write or read)
 *   EACCES  + ETXTBSY                 no exec bit, a noexec mount, or not a
 *                                     regular file; writer another fd or
 *                                     the O_RDWR execfd itself
 *   EACCES  + ENOEXEC                 no exec bit, or a noexec mount
 *   ETXTBSY + ENOEXEC                 garbage or a script, open for writing
 *
 * Every refusal must leave no fd behind.
 */
#include <sys/stat.h>

#include "common.h"

#define DIR_EXEC	ST_SCRATCH "/x"
#define DIR_NOEXEC	ST_SCRATCH "/nx"

enum content { ELF, SCRIPT, GARBAGE, FIFO, MISSING };
enum writer { NO_WRITER, OTHER_FD, THE_EXECFD };

FIXTURE(create) {
	char path[64];
	int writer;
	int low;
};

FIXTURE_VARIANT(create) {
	bool by_fd;
	bool o_path;		/* the execfd is O_PATH: counts as not open */
	bool noexec;		/* the file is on a noexec mount */
	enum content content;
	mode_t mode;
	enum writer writer;
	int expected;
};

FIXTURE_SETUP(create)
{
	static const char script[] = "#!/bin/sh\nexit 0\n";
	static const char garbage[] = "this is not an executable\n";

	self->writer = -1;
	REQUIRE_SPAWN_TEMPLATE_CREATE(_metadata);
	st_scratch(_metadata, 0);
	ASSERT_EQ(0, mkdir(DIR_EXEC, 0755));
	ASSERT_EQ(0, mkdir(DIR_NOEXEC, 0755));
	ASSERT_EQ(0, mount("st_nx", DIR_NOEXEC, "tmpfs", MS_NOEXEC, "mode=0755"));
	snprintf(self->path, sizeof(self->path), "%s/file",
		 variant->noexec ? DIR_NOEXEC : DIR_EXEC);

	switch (variant->content) {
	case ELF:
		st_copy_helper(_metadata, "helper_probe", self->path,
			       variant->mode);
		break;
	case SCRIPT:
		st_write_file(_metadata, self->path, script,
			      sizeof(script) - 1, variant->mode);
		break;
	case GARBAGE:
		st_write_file(_metadata, self->path, garbage,
			      sizeof(garbage) - 1, variant->mode);
		break;
	case FIFO:
		ASSERT_EQ(0, mkfifo(self->path, variant->mode));
		break;
	case MISSING:
		break;
	}
	if (variant->writer == OTHER_FD) {
		self->writer = open(self->path, O_WRONLY | O_CLOEXEC);
		ASSERT_LE(0, self->writer) TH_LOG("open for writing: %m");
	}
	self->low = st_lowest_fd();
}

FIXTURE_TEARDOWN(create)
{
	if (self->writer >= 0)
		close(self->writer);
}

/* The execfd the row asks for; -1 and errno on failure. */
static int open_execfd(const char *path,
		       const FIXTURE_VARIANT(create) *variant)
{
	if (variant->o_path)
		return open(path, O_PATH | O_CLOEXEC);
	if (variant->writer == THE_EXECFD)
		/* A FIFO opened O_RDWR does not wait for a peer. */
		return open(path, O_RDWR | O_CLOEXEC);
	return open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
}

TEST_F(create, refused_with_the_first_error)
{
	/* spec: spawn_template_create(): precedence: EBADF/ENOENT, then EACCES, then ETXTBSY, then ENOEXEC */
	int fd = -1, tfd, e;

	if (variant->by_fd) {
		fd = open_execfd(self->path, variant);
		ASSERT_LE(0, fd) TH_LOG("open the execfd: %m");
		tfd = spawn_template_create_fd(fd, SPAWN_TEMPLATE_CREATE_CLOEXEC);
	} else {
		tfd = spawn_template_create_path(self->path,
						 SPAWN_TEMPLATE_CREATE_CLOEXEC);
	}
	e = errno;
	if (tfd >= 0)
		close(tfd);
	if (fd >= 0)
		close(fd);
	ASSERT_EQ(-1, tfd) TH_LOG("a template was created");
	ASSERT_EQ(variant->expected, e)
		TH_LOG("spec 1.1: create fails with EBADF/ENOENT, then EACCES, then ETXTBSY, then ENOEXEC: expected %s, got %s",
		       strerrorname_np(variant->expected), strerrorname_np(e));
	ASSERT_EQ(self->low, st_lowest_fd()) TH_LOG("a refusal left an fd");
}

/* Rows: name = the two refusals that hold, then the origin. */
#define ROW(name, fd_origin, ...)					\
	FIXTURE_VARIANT_ADD(create, name) {				\
		.by_fd = fd_origin, __VA_ARGS__				\
	}

/* EBADF wins over everything: an O_PATH execfd is not an open file. */
ROW(ebadf_eacces_execfd, true, .o_path = true, .content = ELF,
    .mode = 0600, .expected = EBADF);
ROW(ebadf_eacces_noexec_execfd, true, .o_path = true, .noexec = true,
    .content = ELF, .mode = 0755, .expected = EBADF);
ROW(ebadf_etxtbsy_execfd, true, .o_path = true, .content = ELF,
    .mode = 0755, .writer = OTHER_FD, .expected = EBADF);
ROW(ebadf_enoexec_execfd, true, .o_path = true, .content = GARBAGE,
    .mode = 0755, .expected = EBADF);

/* ENOENT wins over EACCES: a missing file on a noexec mount. */
ROW(enoent_eacces_noexec_path, false, .noexec = true, .content = MISSING,
    .expected = ENOENT);

/* EACCES wins over ETXTBSY. */
ROW(eacces_etxtbsy_path, false, .content = ELF, .mode = 0600,
    .writer = OTHER_FD, .expected = EACCES);
ROW(eacces_etxtbsy_execfd, true, .content = ELF, .mode = 0600,
    .writer = OTHER_FD, .expected = EACCES);
ROW(eacces_etxtbsy_rdwr_execfd, true, .content = ELF, .mode = 0600,
    .writer = THE_EXECFD, .expected = EACCES);
ROW(eacces_noexec_etxtbsy_path, false, .noexec = true, .content = ELF,
    .mode = 0755, .writer = OTHER_FD, .expected = EACCES);
ROW(eacces_noexec_etxtbsy_rdwr_execfd, true, .noexec = true, .content = ELF,
    .mode = 0755, .writer = THE_EXECFD, .expected = EACCES);
ROW(eacces_fifo_etxtbsy_rdwr_execfd, true, .content = FIFO, .mode = 0755,
    .writer = THE_EXECFD, .expected = EACCES);

/* EACCES wins over ENOEXEC. */
ROW(eacces_enoexec_path, false, .content = GARBAGE, .mode = 0644,
    .expected = EACCES);
ROW(eacces_enoexec_execfd, true, .content = GARBAGE, .mode = 0644,
    .expected = EACCES);
ROW(eacces_noexec_enoexec_path, false, .noexec = true, .content = SCRIPT,
    .mode = 0755, .expected = EACCES);
ROW(eacces_noexec_enoexec_execfd, true, .noexec = true, .content = SCRIPT,
    .mode = 0755, .expected = EACCES);

/* ETXTBSY wins over ENOEXEC. */
ROW(etxtbsy_enoexec_path, false, .content = GARBAGE, .mode = 0755,
    .writer = OTHER_FD, .expected = ETXTBSY);
ROW(etxtbsy_enoexec_execfd, true, .content = GARBAGE, .mode = 0755,
    .writer = OTHER_FD, .expected = ETXTBSY);
ROW(etxtbsy_enoexec_rdwr_execfd, true, .content = SCRIPT, .mode = 0755,
    .writer = THE_EXECFD, .expected = ETXTBSY);

TEST_HARNESS_MAIN
