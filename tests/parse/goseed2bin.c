/*
** tests/parse/goseed2bin.c: decodes one file of Go's fuzz corpus format
** ("go test fuzz v1" then `[]byte("...")` with a Go-quoted string) into raw
** bytes on stdout, so Go's FuzzReader corpus can be fed to our reader and to
** Go's validator, and used as libFuzzer seeds.
** Usage: goseed2bin FILE > OUT. Exit 1 if the file has no []byte literal.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static void put_utf8(unsigned long cp)
{
	if (cp < 0x80) {
		putchar((int)cp);
	} else if (cp < 0x800) {
		putchar((int)(0xc0 | cp >> 6));
		putchar((int)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		putchar((int)(0xe0 | cp >> 12));
		putchar((int)(0x80 | ((cp >> 6) & 0x3f)));
		putchar((int)(0x80 | (cp & 0x3f)));
	} else {
		putchar((int)(0xf0 | cp >> 18));
		putchar((int)(0x80 | ((cp >> 12) & 0x3f)));
		putchar((int)(0x80 | ((cp >> 6) & 0x3f)));
		putchar((int)(0x80 | (cp & 0x3f)));
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: goseed2bin FILE\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 2;
	}
	static char text[1 << 22];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = 0;
	char *p = strstr(text, "[]byte(\"");
	if (!p)
		return 1;
	p += 8;
	while (*p && *p != '"') {
		if (*p != '\\') {
			putchar(*p++);
			continue;
		}
		p++;
		int c = *p++;
		switch (c) {
		case 'a': putchar('\a'); break;
		case 'b': putchar('\b'); break;
		case 'f': putchar('\f'); break;
		case 'n': putchar('\n'); break;
		case 'r': putchar('\r'); break;
		case 't': putchar('\t'); break;
		case 'v': putchar('\v'); break;
		case '\\': putchar('\\'); break;
		case '"': putchar('"'); break;
		case '\'': putchar('\''); break;
		case 'x': {
			int h = hexval(p[0]), l = h >= 0 ? hexval(p[1]) : -1;
			if (l < 0)
				return 1;
			putchar(h * 16 + l);
			p += 2;
			break;
		}
		case 'u':
		case 'U': {
			int k = c == 'u' ? 4 : 8;
			unsigned long cp = 0;
			for (int i = 0; i < k; i++) {
				int h = hexval(p[i]);
				if (h < 0)
					return 1;
				cp = cp * 16 + (unsigned long)h;
			}
			p += k;
			put_utf8(cp);
			break;
		}
		default:
			if (c >= '0' && c <= '7' && p[0] >= '0' && p[0] <= '7' && p[1] >= '0' && p[1] <= '7') {
				putchar((c - '0') * 64 + (p[0] - '0') * 8 + (p[1] - '0'));
				p += 2;
				break;
			}
			return 1;
		}
	}
	return *p == '"' ? 0 : 1;
}
