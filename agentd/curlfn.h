/*
 * curlfn: libcurl, loaded with dlopen when the daemon has recorders.
 *
 * Linking libcurl makes every process of this binary load some thirty shared
 * libraries (TLS, Kerberos, LDAP, …): about 7 ms at each `agentd start`,
 * `status` or `shell`, for a feature only `serve --recorder` uses. So the
 * binary does not link it; recorder.c calls it through this table, filled
 * once by curlfn_load(). The macros below keep recorder.c plain libcurl.
 */
#ifndef AGENTD_CURLFN_H
#define AGENTD_CURLFN_H

#define CURL_DISABLE_TYPECHECK	/* the calls go through pointers */
#include <curl/curl.h>

struct curlfn {
	CURLcode	 (*global_init)(long);
	void		 (*global_cleanup)(void);
	CURL		*(*easy_init)(void);
	void		 (*easy_cleanup)(CURL *);
	CURLcode	 (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	 (*easy_getinfo)(CURL *, CURLINFO, ...);
	CURLcode	 (*easy_pause)(CURL *, int);
	const char	*(*easy_strerror)(CURLcode);
	CURLM		*(*multi_init)(void);
	CURLMcode	 (*multi_cleanup)(CURLM *);
	CURLMcode	 (*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode	 (*multi_add_handle)(CURLM *, CURL *);
	CURLMcode	 (*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode	 (*multi_assign)(CURLM *, curl_socket_t, void *);
	CURLMcode	 (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
	CURLMsg		*(*multi_info_read)(CURLM *, int *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		 (*slist_free_all)(struct curl_slist *);
};

extern struct curlfn	curlfn;

/* Loads libcurl.so.4 and its functions. 0, or -1 with *cause (malloc'ed). */
int	curlfn_load(char **cause);

/* curl.h defines these three as macros of themselves: replace them. */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_global_init	curlfn.global_init
#define curl_global_cleanup	curlfn.global_cleanup
#define curl_easy_init		curlfn.easy_init
#define curl_easy_cleanup	curlfn.easy_cleanup
#define curl_easy_setopt	curlfn.easy_setopt
#define curl_easy_getinfo	curlfn.easy_getinfo
#define curl_easy_pause		curlfn.easy_pause
#define curl_easy_strerror	curlfn.easy_strerror
#define curl_multi_init		curlfn.multi_init
#define curl_multi_cleanup	curlfn.multi_cleanup
#define curl_multi_setopt	curlfn.multi_setopt
#define curl_multi_add_handle	curlfn.multi_add_handle
#define curl_multi_remove_handle curlfn.multi_remove_handle
#define curl_multi_assign	curlfn.multi_assign
#define curl_multi_socket_action curlfn.multi_socket_action
#define curl_multi_info_read	curlfn.multi_info_read
#define curl_slist_append	curlfn.slist_append
#define curl_slist_free_all	curlfn.slist_free_all

#endif
