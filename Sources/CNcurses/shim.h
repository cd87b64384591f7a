#ifndef TOLLGATE_CNCURSES_SHIM_H
#define TOLLGATE_CNCURSES_SHIM_H
#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <locale.h>
#include <ncursesw/curses.h>

// Function-like macros do not import into Swift: wrap them.
static inline int tg_color_pair(int n) { return (int)COLOR_PAIR(n); }
static inline int tg_lines(void) { return LINES; }
static inline int tg_cols(void) { return COLS; }
static inline int tg_colors(void) { return COLORS; }
static inline int tg_key_resize(void) { return KEY_RESIZE; }
static inline unsigned int tg_a_bold(void) { return (unsigned int)A_BOLD; }
static inline unsigned int tg_a_reverse(void) { return (unsigned int)A_REVERSE; }
static inline unsigned int tg_a_underline(void) { return (unsigned int)A_UNDERLINE; }
static inline unsigned int tg_a_dim(void) { return (unsigned int)A_DIM; }
static inline unsigned int tg_a_normal(void) { return (unsigned int)A_NORMAL; }
static inline int tg_attrset(unsigned int attrs) { return attrset((int)attrs); }
static inline WINDOW *tg_stdscr(void) { return stdscr; }
#endif
