/*
 * backend.c - drawing a chart: the script in plots/ for the kind
 * (HEAPLAB_PLOTS, else the plots/ folder of the source tree heaplab was
 * built from) run under matplotlib or gnuplot, fork and exec through
 * child.h, no shell.  The script writes beside the chart and heaplab
 * renames its output into place, so the chart appears whole or not at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "heaplab/policies.h"
#include "plot.h"
#include "util.h"

#ifndef HEAPLAB_PLOTS_DIR
#define HEAPLAB_PLOTS_DIR "plots"
#endif

/* Run argv[0] with argv (no shell); its output on our stderr (the
 * script's chatter goes with the diagnostics), or to /dev/null when quiet.
 * The exit status, or -1 when it could not run or was killed. */
static int run(const char *const argv[], int quiet)
{
    int st;
    pid_t pid = hl_child_spawn(argv[0], (char *const *)argv, NULL, quiet);
    if (pid < 0 || hl_child_wait(pid, &st) < 0)
        return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int executable(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

static int imports_matplotlib(const char *python)
{
    const char *argv[] = {python, "-c", "import matplotlib", NULL};
    return executable(python) && run(argv, 1) == 0;
}

/* A Python that imports matplotlib: $HEAPLAB_PYTHON alone when set, else
 * /usr/bin/python3 (Debian's python3-matplotlib), else python3 on PATH. */
static int find_python(char *buf, size_t len)
{
    const char *env = getenv("HEAPLAB_PYTHON");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return imports_matplotlib(buf) ? 0 : -1;
    }
    snprintf(buf, len, "/usr/bin/python3");
    if (imports_matplotlib(buf))
        return 0;
    return hl_path_search("python3", buf, len) == 0 && imports_matplotlib(buf) ? 0 : -1;
}

static int find_gnuplot(char *buf, size_t len)
{
    const char *env = getenv("HEAPLAB_GNUPLOT");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return executable(buf) ? 0 : -1;
    }
    return hl_path_search("gnuplot", buf, len);
}

/* $HEAPLAB_POLICIES for the scripts: the registry's policy names in
 * registry order, space-separated.  0, or -1 out of memory. */
static int export_registry(void)
{
    size_t len = 1;
    for (size_t i = 0; i < hl_policy_count(); i++)
        len += strlen(hl_policy_at(i)->name) + 1;
    char *names = malloc(len), *p = names;
    if (!names)
        return -1;
    *p = '\0';
    for (size_t i = 0; i < hl_policy_count(); i++)
        p += sprintf(p, "%s%s", i ? " " : "", hl_policy_at(i)->name);
    int rc = setenv("HEAPLAB_POLICIES", names, 1);
    free(names);
    return rc;
}

int hl_plot_draw(const char *kind, int gnuplot, const char *data, const char *outpath, int width, int height,
                 const char *trace)
{
    const char *ext = strrchr(outpath, '.');
    char partial[4200] = "", size[32];
    int rc = 0;

    /* the script writes beside the chart; the chart appears whole or not at all */
    if (snprintf(partial, sizeof partial, "%.*s.partial-%ld%s", (int)(ext - outpath), outpath, (long)getpid(),
                 ext) >= (int)sizeof partial) {
        rc = hl_plot_fail("-o %s: path too long", outpath);
        goto done;
    }
    int fd = open(partial, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0) {
        rc = hl_plot_fail("-o %s: cannot write there: %s", outpath, strerror(errno));
        partial[0] = '\0';
        goto done;
    }
    close(fd);

    /* the script and what runs it: the input is checked first, so bad input
     * gets the same answer wherever heaplab runs */
    const char *plots = getenv("HEAPLAB_PLOTS");
    if (!plots || !*plots)
        plots = HEAPLAB_PLOTS_DIR;
    char script[4096], interp[4096];
    if (snprintf(script, sizeof script, "%s/%s.%s", plots, kind, gnuplot ? "gp" : "py") >= (int)sizeof script) {
        rc = hl_plot_fail("HEAPLAB_PLOTS: path too long");
        goto done;
    }
    if (access(script, R_OK) != 0) {
        rc = hl_plot_fail("%s: %s (set HEAPLAB_PLOTS to heaplab's plots/ folder)", script, strerror(errno));
        goto done;
    }
    if (gnuplot ? find_gnuplot(interp, sizeof interp) : find_python(interp, sizeof interp)) {
        rc = hl_plot_fail(gnuplot ? "gnuplot is not installed: apt-get install gnuplot-nox"
                                  : "matplotlib is not installed: apt-get install python3-matplotlib");
        goto done;
    }

    if (export_registry() != 0) {
        rc = hl_plot_fail("HEAPLAB_POLICIES: %s", strerror(errno));
        goto done;
    }
    snprintf(size, sizeof size, "%dx%d", width, height);
    const char *args[10];
    int na = 0;
    args[na++] = interp;
    if (gnuplot)
        args[na++] = "-c";
    else
        args[na++] = "-B"; /* no __pycache__ in the source tree */
    args[na++] = script;
    args[na++] = data;
    args[na++] = partial;
    args[na++] = size;
    if (trace)
        args[na++] = trace;
    args[na] = NULL;
    int st = run(args, 0);
    struct stat sb;
    if (st != 0) {
        if (st < 0)
            fprintf(stderr, "heaplab: plot: %s %s could not run or was killed\n", interp, script);
        else
            fprintf(stderr, "heaplab: plot: %s %s failed (exit status %d)\n", interp, script, st);
        rc = 1;
    } else if (stat(partial, &sb) != 0 || sb.st_size == 0) {
        fprintf(stderr, "heaplab: plot: %s wrote no chart\n", script);
        rc = 1;
    } else if (hl_replace_file(partial, outpath) != 0) {
        rc = hl_plot_fail("%s: %s", outpath, strerror(errno));
    } else {
        partial[0] = '\0';
    }
done:
    if (partial[0])
        unlink(partial);
    return rc;
}
