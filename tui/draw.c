/* Drawing on the terminal: the theme's roles as curses attributes, and text. Every
 * string reaches the terminal through draw_text, clipped to its cell by width. */
#include "config.h"

#include "tui/draw.h"
#include "tui/state.h"
#include "model/text.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

static int role_attr[TH_COUNT];

static int curses_color(int c)
{
	if (c < 0)
		return -1;
	/* A 256-colour theme on an 8-colour terminal: the nearest basic colour. */
	return c < COLORS ? c : c % 8;
}

void draw_init_theme(struct app *a)
{
	for (int r = 0; r < TH_COUNT; r++) {
		const struct theme_style *st = &a->theme.roles[r];
		int attr = 0;
		if (st->attrs & TA_BOLD)
			attr |= A_BOLD;
		if (st->attrs & TA_REVERSE)
			attr |= A_REVERSE;
		if (st->attrs & TA_UNDERLINE)
			attr |= A_UNDERLINE;
		if (st->attrs & TA_DIM)
			attr |= A_DIM;
		if (a->color && (st->fg >= 0 || st->bg >= 0) && r + 1 < COLOR_PAIRS) {
			init_pair((short)(r + 1), (short)curses_color(st->fg), (short)curses_color(st->bg));
			attr |= (int)COLOR_PAIR(r + 1);
		}
		role_attr[r] = attr;
	}
}

int draw_attr(const struct app *a, int role)
{
	return role >= 0 && role < TH_COUNT ? role_attr[role] : (int)A_NORMAL;
}

const char *draw_block(const struct app *a)
{
	return a->ascii ? "#" : "\u2588";
}

void draw_text(int y, int x, int w, const char *s, int attr, bool right)
{
	wchar_t buf[512];
	int used = 0;
	size_t n = 0;
	mbstate_t ps;

	if (w <= 0 || y < 0 || y >= LINES || x >= COLS)
		return;
	if (x + w > COLS)
		w = COLS - x;
	memset(&ps, 0, sizeof(ps));
	while (*s && n < sizeof(buf) / sizeof(buf[0]) - 5) {
		wchar_t wc;
		size_t len = mbrtowc(&wc, s, strlen(s), &ps);
		if (len == (size_t)-1 || len == (size_t)-2 || len == 0) {
			/* Not a character here (a non-UTF-8 locale): a placeholder. */
			wc = L'?';
			len = 1;
			memset(&ps, 0, sizeof(ps));
		}
		if (wc < 0x20 || wc == 0x7f) {
			/* The snapshot escapes names already; should a control character get
			 * through anyway, it is shown as \xNN and never sent. */
			if (used + 4 > w)
				break;
			swprintf(buf + n, 5, L"\\x%02x", (unsigned)wc);
			n += 4;
			used += 4;
			s += len;
			continue;
		}
		int cw = wcwidth(wc);
		if (cw < 0)
			wc = L'?', cw = 1;
		if (used + cw > w)
			break;
		buf[n++] = wc;
		used += cw;
		s += len;
	}
	buf[n] = 0;
	attrset(attr);
	move(y, x);
	if (right)
		for (int i = used; i < w; i++)
			addch(' ');
	addnwstr(buf, (int)n);
	if (!right)
		for (int i = used; i < w; i++)
			addch(' ');
	attrset(A_NORMAL);
}
