package trace

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape renders s so that it keeps the shape of one line of text, the way
// Go quotes a string but without the quotes: a backslash becomes `\\`;
// newline, carriage return and tab become `\n`, `\r`, `\t`; every other
// control character (C0, DEL) and every byte that is not UTF-8 becomes
// `\xNN`; a character outside the graphic set (C1 controls, U+2028 and
// U+2029, bidirectional overrides and the other format characters)
// becomes `\uNNNN`. Printable text, spaces and non-ASCII letters are kept.
// Escape is injective: two different strings never render alike. The text
// and Mermaid forms of a trace and DOT's node ids go through it; JSON has
// its own escaping (WriteJSON).
func Escape(s string) string {
	i := 0
	for i < len(s) {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '\\' {
			break
		}
		i++
	}
	if i == len(s) {
		return s // the common case: printable ASCII, no backslash
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x80 || unicode.IsGraphic(r):
			b.WriteString(s[i : i+size])
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
		i += size
	}
	return b.String()
}
