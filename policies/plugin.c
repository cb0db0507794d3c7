/*
 * plugin.c - policies from shared objects: `-p ./my_policy.so`.
 *
 * A plugin is a shared object exporting one function, hl_policy_entry,
 * that returns its `struct hl_policy` table (the contract is in
 * heaplab/policy.h).  Loading it is dlopen (RTLD_NOW, so a plugin that
 * calls something heaplab does not export fails here, not in the middle
 * of a replay), dlsym, one call, and a look at the table: the ABI it was
 * built for first, since that field is the only one whose place every
 * version agrees on.  A plugin stays loaded until the process ends: its
 * table is referenced by every spec and heap made from it.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "heaplab/policies.h"

int hl_policy_is_path(const char *name, size_t len)
{
    return memchr(name, '/', len) != NULL || (len >= 3 && memcmp(name + len - 3, ".so", 3) == 0);
}

/* What core needs of a table before it makes a heap with it; core's
 * hl_heap_create checks the same, but says only EINVAL. */
static int check_table(const struct hl_policy *p, const char *path, char *err, size_t errlen)
{
    if (p->abi != HL_POLICY_ABI) {
        snprintf(err, errlen, "%s: built for policy ABI %u, heaplab has %d (rebuild it against this "
                              "heaplab's include/heaplab/policy.h)",
                 path, p->abi, HL_POLICY_ABI);
        return -1;
    }
    if (!p->name || !*p->name) {
        snprintf(err, errlen, "%s: the policy table has no name", path);
        return -1;
    }
    if (!(p->insert && p->remove && p->find) && !(p->alloc && p->release)) {
        snprintf(err, errlen, "%s: policy '%s' needs insert, remove and find (or alloc and release)", path,
                 p->name);
        return -1;
    }
    size_t np = hl_policy_nparams(p);
    if (np == HL_MAX_PARAMS && p->params[np].name) {
        snprintf(err, errlen, "%s: policy '%s' has more than %d parameters", path, p->name, HL_MAX_PARAMS);
        return -1;
    }
    for (size_t i = 0; i < np; i++) {
        const struct hl_param *pa = &p->params[i];
        if (pa->def < pa->min || pa->def > pa->max) {
            snprintf(err, errlen, "%s: policy '%s': default of parameter '%s' is outside [%ld, %ld]", path,
                     p->name, pa->name, pa->min, pa->max);
            return -1;
        }
    }
    return 0;
}

const struct hl_policy *hl_policy_load(const char *path, char *err, size_t errlen)
{
    /* dlopen searches the library path for a bare name; "my.so" means the
     * file in the current directory, as it does for every other command */
    char file[4096];
    if (snprintf(file, sizeof file, "%s%s", strchr(path, '/') ? "" : "./", path) >= (int)sizeof file) {
        snprintf(err, errlen, "%.64s...: path too long", path);
        return NULL;
    }
    void *so = dlopen(file, RTLD_NOW | RTLD_LOCAL);
    if (!so) {
        const char *why = dlerror();
        /* dlerror names the file itself ("./x.so: invalid ELF header") */
        snprintf(err, errlen, "%s", why ? why : "dlopen failed");
        char *nl = strchr(err, '\n');
        if (nl)
            *nl = 0;
        return NULL;
    }
    void *sym = dlsym(so, "hl_policy_entry");
    if (!sym) {
        snprintf(err, errlen, "%s: no hl_policy_entry symbol (a plugin exports "
                              "'const struct hl_policy *hl_policy_entry(void)')",
                 path);
        dlclose(so);
        return NULL;
    }
    hl_policy_entry_fn entry;
    memcpy(&entry, &sym, sizeof entry); /* object to function pointer, as POSIX allows */
    const struct hl_policy *p = entry();
    if (!p) {
        snprintf(err, errlen, "%s: hl_policy_entry returned NULL", path);
        dlclose(so);
        return NULL;
    }
    if (check_table(p, path, err, errlen) != 0) {
        dlclose(so);
        return NULL;
    }
    return p;
}
