/* Parsers of /proc files (limits, file-nr, stat, fd links, cgroup paths, btime) and
 * the small-file reader they share: pure text in, numbers out, tested on fixtures. */
#include "config.h"

#include "sources/procscan_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int procscan_parse_limits(const char *text, uint64_t *soft, uint64_t *hard)
{
	static const char key[] = "Max open files";
	const char *line = text;
	uint64_t v[2];

	while (line && strncmp(line, key, sizeof(key) - 1)) {
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (!line)
		return -ENOENT;
	const char *s = line + sizeof(key) - 1;
	for (int i = 0; i < 2; i++) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!strncmp(s, "unlimited", 9)) {
			v[i] = UINT64_MAX;
			s += 9;
		} else {
			char *end;
			if (*s < '0' || *s > '9')
				return -EINVAL;
			errno = 0;
			v[i] = strtoull(s, &end, 10);
			if (errno)
				return -EINVAL;
			s = end;
		}
		if (*s != ' ' && *s != '\t')
			return -EINVAL;
	}
	*soft = v[0], *hard = v[1];
	return 0;
}

int procscan_parse_file_nr(const char *text, uint64_t *alloc, uint64_t *max)
{
	unsigned long long a, unused, m;
	if (sscanf(text, "%llu %llu %llu", &a, &unused, &m) != 3)
		return -EINVAL;
	*alloc = a, *max = m;
	return 0;
}

uint32_t procscan_socket_inode(const char *link)
{
	static const char pre[] = "socket:[";
	uint64_t v = 0;
	const char *s;

	if (strncmp(link, pre, sizeof(pre) - 1))
		return 0;
	for (s = link + sizeof(pre) - 1; *s >= '0' && *s <= '9'; s++)
		if ((v = v * 10 + (uint64_t)(*s - '0')) > UINT32_MAX)
			return 0;
	if (s == link + sizeof(pre) - 1 || s[0] != ']' || s[1])
		return 0;
	return (uint32_t)v;
}

/* Read a small file under dirfd into buf (NUL-terminated). Returns length or -errno. */
ssize_t procscan_read_at(int dirfd, const char *name, char *buf, size_t size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n, len = 0;

	if (fd < 0)
		return -errno;
	while ((size_t)len < size - 1 && (n = read(fd, buf + len, size - 1 - (size_t)len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return n;
		}
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

/* /proc/PID/stat: start time (field 22) and flags (field 9). The comm may hold ')',
 * so fields count from the last one. */
int procscan_parse_stat(const char *text, uint64_t *start, uint32_t *flags)
{
	const char *s = strrchr(text, ')');
	unsigned long long v = 0;

	if (!s)
		return -EINVAL;
	s++;
	for (int field = 3; field <= 22; field++) {
		while (*s == ' ')
			s++;
		if (!*s)
			return -EINVAL;
		if (field == 9 || field == 22) {
			char *end;
			v = strtoull(s, &end, 10);
			if (end == s)
				return -EINVAL;
			if (field == 9)
				*flags = (uint32_t)v;
			s = end;
		} else {
			while (*s && *s != ' ')
				s++;
		}
	}
	*start = v;
	return 0;
}

/* Runtimes and how their cgroup names a container: a prefix, then the id. */
static const struct {
	const char *prefix, *runtime;
	bool hex;      /* the id is a hex container id (shown by its first 12 digits) */
} cgroup_runtimes[] = {
	{"docker-", "docker", true},           /* systemd driver: docker-ID.scope */
	{"/docker/", "docker", true},          /* cgroupfs driver */
	{"cri-containerd-", "containerd", true},
	{"crio-", "crio", true},
	{"libpod-", "podman", true},
	{"/kubepods/", "k8s", true},            /* cgroupfs: /kubepods/CLASS/podUID/ID */
	{"lxc.payload.", "lxc", false},
};

void procscan_container(const char *cgroup, char *out, size_t size)
{
	out[0] = '\0';
	if (!cgroup)
		return;
	for (size_t i = 0; i < sizeof(cgroup_runtimes) / sizeof(cgroup_runtimes[0]); i++) {
		const char *pre = cgroup_runtimes[i].prefix;
		for (const char *at = strstr(cgroup, pre); at; at = strstr(at + 1, pre)) {
			const char *id = at + strlen(pre), *end = id;
			if (cgroup_runtimes[i].hex) {
				/* k8s cgroupfs: skip to the last path component. */
				const char *slash;
				while (!strncmp(pre, "/kubepods/", 10) &&
				       (slash = strpbrk(id, "/,\n")) && *slash == '/')
					id = end = slash + 1;
				while ((*end >= '0' && *end <= '9') || (*end >= 'a' && *end <= 'f'))
					end++;
				if (end - id < 12)
					continue;
				snprintf(out, size, "%s:%.12s", cgroup_runtimes[i].runtime, id);
			} else {
				end = id + strcspn(id, "/,\n");
				if (end == id)
					continue;
				snprintf(out, size, "%s:%.*s", cgroup_runtimes[i].runtime,
					 (int)(end - id), id);
			}
			return;
		}
	}
}

double procscan_boot_time(const char *root)
{
	char path[4096], line[256];
	double bt = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/stat", root);
	if (!(f = fopen(path, "re")))
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lf", &bt) == 1)
			break;
	fclose(f);
	return bt;
}

/* Unit suffixes a process can run under (a slice only groups them). */
static const char *const unit_suffixes[] = {
	".service", ".scope", ".socket", ".mount", ".swap", ".automount", ".path", ".timer",
	".target", ".device",
};

/* Does [name, name + len) end in a unit suffix other than .slice? */
static bool unit_name(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(unit_suffixes) / sizeof(unit_suffixes[0]); i++) {
		size_t n = strlen(unit_suffixes[i]);
		if (len > n && !memcmp(name + len - n, unit_suffixes[i], n))
			return true;
	}
	return false;
}

const char *procscan_cgroup_path(const char *cgroup, size_t *len)
{
	const char *path = NULL, *path_end = NULL;

	*len = 0;
	if (!cgroup)
		return NULL;
	/* Entries "ID:CONTROLLERS:PATH", one a line or comma-joined: systemd's own
	 * hierarchy (cgroup v1) when there is one, else the unified one ("0::"). */
	for (const char *e = cgroup; *e;) {
		size_t n = strcspn(e, ",\n");
		const char *c1 = memchr(e, ':', n), *c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - e)) : NULL;
		if (c2) {
			bool sd = c2 - c1 - 1 == 12 && !memcmp(c1 + 1, "name=systemd", 12);
			if (sd || (c2 == c1 + 1 && !path)) {
				path = c2 + 1, path_end = e + n;
				if (sd)
					break;
			}
		}
		e += n;
		e += *e != '\0';
	}
	*len = path ? (size_t)(path_end - path) : 0;
	return path;
}

bool procscan_unit_name(const char *name, size_t len)
{
	return unit_name(name, len);
}

void procscan_unit(const char *cgroup, char *out, size_t size)
{
	size_t plen;
	const char *path = procscan_cgroup_path(cgroup, &plen), *path_end = path ? path + plen : NULL;

	out[0] = '\0';
	/* The first component that is not a slice names the unit, as systemd reads it. */
	while (path && path < path_end) {
		while (path < path_end && *path == '/')
			path++;
		const char *end = path;
		while (end < path_end && *end != '/')
			end++;
		size_t len = (size_t)(end - path);
		if (len > 6 && !memcmp(end - 6, ".slice", 6)) {
			path = end;
			continue;
		}
		if (len && unit_name(path, len))
			snprintf(out, size, "%.*s", (int)len, path);
		return;
	}
}
