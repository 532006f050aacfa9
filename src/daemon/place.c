/* place.c - where a daemon's link goes (see place.h). */
#include "daemon/place.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/defaults.h"

int thsm_check_place(const char *prog, const char *link, const char *run_dir)
{
    char err[600], dir[4096];
    struct stat st;
    if (run_dir && mkdir(run_dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s: cannot create %s: %s\n", prog, run_dir,
                strerror(errno));
        return -1;
    }
    thsm_dir_of(link, dir, sizeof(dir));
    int bad = run_dir ? thsm_check_private_dir(run_dir, geteuid(), err, sizeof(err))
                      : thsm_check_owner("directory", dir, geteuid(), err, sizeof(err));
    if (bad) {
        fprintf(stderr, "%s: %s\n", prog, err);
        return -1;
    }
    if (lstat(link, &st) == 0 && !S_ISLNK(st.st_mode)) {
        fprintf(stderr, "%s: %s exists and is not a symlink; not replacing "
                "it\n", prog, link);
        return -1;
    }
    return 0;
}
