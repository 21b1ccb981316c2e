/*
 * replay.c: a main() for a fuzz target without libFuzzer, so that its
 * corpus can be replayed where clang is not installed.
 *
 *	fuzz_<name> FILE-OR-DIRECTORY ...
 *
 * Every file named, and every file in a directory named (in name order),
 * goes once through LLVMFuzzerTestOneInput.  Built with AddressSanitizer
 * (make fuzz-replay), an input that once crashed, leaked or misbehaved
 * stops the run again: the target aborts, or the sanitizer reports and
 * exits non-zero.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static int
replay_file(const char *path)
{
	unsigned char *data = NULL;
	long size;
	FILE *f;
	int rv = -1;

	f = fopen(path, "rb");
	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0)
		goto done;
	/* One byte more, so that an empty file still has a buffer. */
	data = malloc((size_t)size + 1);
	if (data == NULL || fread(data, 1, (size_t)size, f) != (size_t)size)
		goto done;
	LLVMFuzzerTestOneInput(data, (size_t)size);
	rv = 0;
done:
	if (rv < 0)
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
	free(data);
	if (f != NULL)
		fclose(f);
	return rv;
}

static int
skip_entry(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* The number of files replayed, or -1. */
static int
replay_dir(const char *dir)
{
	struct dirent **names;
	char path[4096];
	int i, n, count = 0;

	n = scandir(dir, &names, skip_entry, alphasort);
	if (n < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (count >= 0 && replay_file(path) == 0)
			count++;
		else
			count = -1;
		free(names[i]);
	}
	free(names);
	return count;
}

int
main(int argc, char **argv)
{
	struct stat st;
	int i, n, total = 0, rv = 0;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			n = replay_dir(argv[i]);
		else
			n = replay_file(argv[i]) == 0 ? 1 : -1;
		if (n < 0)
			rv = 1;
		else
			total += n;
	}
	printf("%s: %d inputs replayed%s\n", argv[0], total,
	    rv != 0 ? ", some unreadable" : "");
	return rv;
}
