package dtc

import "strings"

// The scanner half of the parser: a cursor over the source with its line
// and column, white space and comments, and the lexical classes of dtc's
// lexer (dtc-lexer.l).

// pos returns the cursor's position.
func (p *parser) pos() Pos { return Pos{p.line, p.col} }

// eof reports whether the cursor is at the end.
func (p *parser) eof() bool { return p.off >= len(p.src) }

// peek returns the byte at the cursor, 0 at the end.
func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.src[p.off]
}

// peekAt returns the byte k after the cursor, 0 past the end.
func (p *parser) peekAt(k int) byte {
	if p.off+k >= len(p.src) {
		return 0
	}
	return p.src[p.off+k]
}

// advance moves the cursor over n bytes.
func (p *parser) advance(n int) {
	for ; n > 0 && !p.eof(); n-- {
		if p.src[p.off] == '\n' {
			p.line++
			p.col = 1
		} else {
			p.col++
		}
		p.off++
	}
}

// hasPrefix reports whether the source at the cursor starts with s.
func (p *parser) hasPrefix(s string) bool {
	return strings.HasPrefix(string(p.src[p.off:min(len(p.src), p.off+len(s))]), s)
}

// cppDirectives are the preprocessor's words: a line starting with # and
// one of them is a directive dtc never sees.
var cppDirectives = []string{"include", "define", "undef", "ifdef", "ifndef", "if", "elif", "else", "endif", "pragma", "error", "line"}

// skipSpace moves over white space and comments. An unterminated comment
// and a preprocessor directive are errors.
func (p *parser) skipSpace() {
	for !p.eof() {
		c := p.peek()
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			p.advance(1)
		case c == '/' && p.peekAt(1) == '/':
			for !p.eof() && p.peek() != '\n' {
				p.advance(1)
			}
		case c == '/' && p.peekAt(1) == '*':
			start := p.pos()
			p.advance(2)
			for !p.hasPrefix("*/") {
				if p.eof() {
					p.fail(p.errorf(start, "unterminated comment"))
				}
				p.advance(1)
			}
			p.advance(2)
		case c == '#' && p.atLineStart():
			word := p.wordAfterHash()
			for _, d := range cppDirectives {
				if word == d {
					p.fail(p.errorf(p.pos(), "preprocessor directive #%s: run the C preprocessor first (cpp -nostdinc -undef -x assembler-with-cpp)", word))
				}
			}
			return
		default:
			return
		}
	}
}

// atLineStart reports whether only blanks precede the cursor on its line.
func (p *parser) atLineStart() bool {
	for i := p.off - 1; i >= 0; i-- {
		switch p.src[i] {
		case '\n':
			return true
		case ' ', '\t':
		default:
			return false
		}
	}
	return true
}

// wordAfterHash returns the letters after a '#' at the cursor, after
// optional blanks ("# include" is a directive too).
func (p *parser) wordAfterHash() string {
	i := p.off + 1
	for i < len(p.src) && (p.src[i] == ' ' || p.src[i] == '\t') {
		i++
	}
	j := i
	for j < len(p.src) && p.src[j] >= 'a' && p.src[j] <= 'z' {
		j++
	}
	if j < len(p.src) && isNameChar(p.src[j]) {
		return "" // #address-cells and friends: a property name
	}
	return string(p.src[i:j])
}

// isNameChar reports a character of a node or property name
// (dtc's PROPNODECHAR: [a-zA-Z0-9,._+*#?@-]).
func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		strings.IndexByte(",._+*#?@-", c) >= 0
}

// isLabelStart and isLabelChar are dtc's LABEL: [a-zA-Z_][a-zA-Z0-9_]*.
func isLabelStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isLabelChar(c byte) bool  { return isLabelStart(c) || c >= '0' && c <= '9' }

// name reads a run of name characters (possibly empty).
func (p *parser) name() string {
	i := p.off
	for i < len(p.src) && isNameChar(p.src[i]) {
		i++
	}
	s := string(p.src[p.off:i])
	p.advance(i - p.off)
	return s
}

// label reads a label after '&' or before ':'; "" when none starts here.
func (p *parser) label() string {
	if !isLabelStart(p.peek()) {
		return ""
	}
	i := p.off
	for i < len(p.src) && isLabelChar(p.src[i]) {
		i++
	}
	s := string(p.src[p.off:i])
	p.advance(i - p.off)
	return s
}

// expect moves over the byte c, after white space, or fails with what was
// expected.
func (p *parser) expect(c byte, what string) {
	p.skipSpace()
	if p.peek() != c {
		p.fail(p.errorf(p.pos(), "syntax error: expected %s, found %s", what, p.found()))
	}
	p.advance(1)
}

// found describes what is at the cursor, for a syntax error.
func (p *parser) found() string {
	if p.eof() {
		return "end of file"
	}
	c := p.peek()
	if c >= 0x20 && c <= 0x7e {
		return "'" + string(c) + "'"
	}
	if c == '\n' {
		return "end of line"
	}
	return "a byte 0x" + hex2(c)
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}

// directive reads /word/ at the cursor if there is one there, and returns
// the word; it leaves the cursor alone and returns "" otherwise.
func (p *parser) directive() string {
	if p.peek() != '/' {
		return ""
	}
	i := p.off + 1
	for i < len(p.src) && (p.src[i] >= 'a' && p.src[i] <= 'z' || p.src[i] >= '0' && p.src[i] <= '9' || p.src[i] == '-') {
		i++
	}
	if i == p.off+1 || i >= len(p.src) || p.src[i] != '/' {
		return ""
	}
	w := string(p.src[p.off+1 : i])
	p.advance(i + 1 - p.off)
	return w
}
