/* curlfn: libcurl through dlopen. See curlfn.h. */
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curlfn.h"

struct curlfn	curlfn;

int
curlfn_load(char **cause)
{
	static const struct {
		const char	*name;
		size_t		 off;
	} syms[] = {
#define SYM(f, n) { n, offsetof(struct curlfn, f) }
		SYM(global_init, "curl_global_init"),
		SYM(global_cleanup, "curl_global_cleanup"),
		SYM(easy_init, "curl_easy_init"),
		SYM(easy_cleanup, "curl_easy_cleanup"),
		SYM(easy_setopt, "curl_easy_setopt"),
		SYM(easy_getinfo, "curl_easy_getinfo"),
		SYM(easy_pause, "curl_easy_pause"),
		SYM(easy_strerror, "curl_easy_strerror"),
		SYM(multi_init, "curl_multi_init"),
		SYM(multi_cleanup, "curl_multi_cleanup"),
		SYM(multi_setopt, "curl_multi_setopt"),
		SYM(multi_add_handle, "curl_multi_add_handle"),
		SYM(multi_remove_handle, "curl_multi_remove_handle"),
		SYM(multi_assign, "curl_multi_assign"),
		SYM(multi_socket_action, "curl_multi_socket_action"),
		SYM(multi_info_read, "curl_multi_info_read"),
		SYM(slist_append, "curl_slist_append"),
		SYM(slist_free_all, "curl_slist_free_all"),
#undef SYM
	};
	static void *lib;
	void *fn;
	size_t i;

	if (lib != NULL)
		return 0;
	if ((lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL)) == NULL) {
		if (asprintf(cause, "recorders need libcurl (Debian: libcurl4): "
		    "%s", dlerror()) == -1)
			*cause = NULL;
		return -1;
	}
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		/* POSIX lets a void * from dlsym become a function pointer. */
		if ((fn = dlsym(lib, syms[i].name)) == NULL) {
			if (asprintf(cause, "libcurl.so.4 lacks %s",
			    syms[i].name) == -1)
				*cause = NULL;
			dlclose(lib);
			lib = NULL;
			return -1;
		}
		memcpy((char *)&curlfn + syms[i].off, &fn, sizeof(fn));
	}
	return 0;
}
