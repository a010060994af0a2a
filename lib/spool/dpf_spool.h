/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DPF_SPOOL_H
#define DPF_SPOOL_H

/**
 * @file
 * A durable, bounded spool of files waiting for delivery (object storage
 * uploads).
 *
 * An entry is a file under the spool directory at a relative name (for
 * uploads, the object key: "AWSLogs/.../name.log.zst"). dpf_spool_add() puts
 * it there atomically: a hard link to the source when both are on one file
 * system, else a copy written to a hidden temporary (".<base>.tmp"), fsynced
 * and renamed; the directory is fsynced in both cases. An entry leaves the
 * spool only through dpf_spool_remove(), once the caller has confirmed the
 * delivery.
 *
 * The directory is the whole state: dpf_spool_open() on an existing spool
 * finds every entry not yet removed (and deletes temporaries a crash left),
 * so a restart loses nothing and each entry keeps its name, hence its object
 * key. Entries are handed out oldest first (file modification time, then
 * name); a copy keeps its source's modification time.
 *
 * Bounds: at most max_files entries and max_bytes bytes (sum of file sizes);
 * an add that would exceed either fails with -ENOSPC and leaves the source
 * untouched. Entries found at open count against the bounds; the open
 * succeeds even when they exceed them (nothing is ever dropped here).
 *
 * Names: '/'-separated components, none empty, none "." or "..", none
 * starting with '.' (reserved for temporaries), no leading '/', shorter than
 * PATH_MAX.
 *
 * The library needs no rte_eal_init.
 *
 * Thread safety: not thread-safe; the caller serialises every call on one
 * spool (a mutex between the thread that adds and the one that delivers).
 */

#include <stdbool.h>
#include <stdint.h>

struct dpf_spool_params {
	const char *dir;    /**< spool directory, created (mode 0750) when missing */
	uint64_t max_bytes; /**< 0 = no byte limit */
	uint32_t max_files; /**< 0 = no file-count limit */
};

struct dpf_spool;

/**
 * Open (or create) a spool and load its entries.
 * @return handle, or NULL with rte_errno = EINVAL (NULL or empty dir),
 *         ENOMEM, or the errno of a failed mkdir, open or scan
 */
struct dpf_spool *dpf_spool_open(const struct dpf_spool_params *p);

/** Frees the handle; entries stay on disk. NULL-safe. */
void dpf_spool_close(struct dpf_spool *s);

/** True when name is a valid entry name (see above). */
bool dpf_spool_name_valid(const char *name);

/**
 * Add the file src as entry name.
 * @return 0, -EINVAL (NULL s or src, invalid name), -ENOSPC (a bound would be
 *         exceeded), -EEXIST (name already spooled), or the -errno of
 *         stat/mkdir/link/open/read/write/fsync/rename (the spool is then
 *         unchanged: a partial copy is removed)
 */
int dpf_spool_add(struct dpf_spool *s, const char *src, const char *name);

/**
 * Oldest entry.
 * @param name  out: the entry's name, valid until the next add or remove
 * @return 0, or -ENOENT when the spool is empty
 */
int dpf_spool_oldest(const struct dpf_spool *s, const char **name);

/**
 * Path of an entry's file ("<dir>/<name>").
 * @return 0, -EINVAL, -ENAMETOOLONG
 */
int dpf_spool_path(const struct dpf_spool *s, const char *name, char *out, size_t cap);

/**
 * Remove a delivered entry (and the directories it leaves empty).
 * @return 0, -ENOENT (no such entry), or the -errno of unlink (the entry
 *         then stays listed)
 */
int dpf_spool_remove(struct dpf_spool *s, const char *name);

/** Entries in the spool. */
uint32_t dpf_spool_count(const struct dpf_spool *s);

/** Bytes in the spool (sum of entry file sizes). */
uint64_t dpf_spool_bytes(const struct dpf_spool *s);

#endif /* DPF_SPOOL_H */
