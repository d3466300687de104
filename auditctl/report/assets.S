/* The report's run-time assets, embedded into auditctl at build time so a
 * copied binary writes a complete report (docs/DESIGN-NOTES.md). Each blob is
 * followed by its end symbol; report.h declares them. The paths come from
 * the Makefile (-D...=\"path\"). */
	.section .rodata
	.balign 16
#define BLOB(name, file) \
	.global name; name: .incbin file; .global name##_end; name##_end: .byte 0
BLOB(report_player_js, PLAYER_JS)
BLOB(report_player_css, PLAYER_CSS)
BLOB(report_app_js, APP_JS)
BLOB(report_app_css, APP_CSS)
	.section .note.GNU-stack,"",@progbits
