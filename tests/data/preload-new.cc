/*
 * preload-new.cc - C++'s new and delete reach heaplab's drop-in malloc
 * through malloc and free (tests/check_preload.c; built when g++ is
 * there).  Exit status 0, or 1 with the failed check.
 */
#include <dlfcn.h>
#include <malloc.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            std::printf("FAIL preload-new.cc:%d: %s\n", __LINE__, #cond);                          \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main()
{
    Dl_info info;
    CHECK(dladdr(reinterpret_cast<void *>(&malloc), &info) && std::strstr(info.dli_fname, "libheaplab-malloc.so"));
    struct mallinfo2 before = mallinfo2();
    int *a = new int[1000];
    /* the library checks every pointer it is handed: one that did not come
     * from its heap would abort here */
    CHECK(malloc_usable_size(a) >= 1000 * sizeof(int));
    CHECK(mallinfo2().uordblks >= before.uordblks + 1000 * sizeof(int));
    delete[] a;
    std::vector<std::string> v;
    std::map<int, std::unique_ptr<std::string>> m;
    for (int i = 0; i < 4000; i++) {
        v.push_back(std::string(static_cast<size_t>(20 + i % 200), 'x'));
        m[i % 1000] = std::make_unique<std::string>(v.back());
    }
    CHECK(v.size() == 4000 && m.size() == 1000 && m[999]->size() == 20 + 999 % 200);
    std::printf("ok\n");
    return 0;
}
