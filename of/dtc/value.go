package dtc

import (
	"encoding/binary"
	"strconv"
)

// part is one comma-separated piece of a value as written: bytes with the
// phandle references inside them (offsets relative to the piece), or a
// reference outside cells, which becomes the target's path.
type part struct {
	data     []byte
	cellRefs []Ref
	pathRef  *Ref
}

// value reads a property value after '=': pieces separated by commas.
func (p *parser) value() []part {
	var parts []part
	size := 0
	for {
		p.skipSpace()
		pos := p.pos()
		var pt part
		switch p.peek() {
		case '"':
			pt.data = p.str()
		case '<':
			pt = p.cells(32)
		case '[':
			pt.data = p.bytes()
		case '&':
			r := p.reference()
			pt.pathRef = &r
		case '/':
			w := p.directive()
			if w != "bits" {
				if w == "" {
					p.fail(p.errorf(pos, "syntax error: expected a value, found %s", p.found()))
				}
				p.fail(p.errorf(pos, "/%s/ is not supported in a value", w))
			}
			p.skipSpace()
			bpos := p.pos()
			bits := p.literal()
			if bits != 8 && bits != 16 && bits != 32 && bits != 64 {
				p.fail(p.errorf(bpos, "Array elements must be 8, 16, 32 or 64-bits"))
			}
			p.skipSpace()
			if p.peek() != '<' {
				p.fail(p.errorf(p.pos(), "syntax error: expected '<' after /bits/ %d, found %s", bits, p.found()))
			}
			pt = p.cells(int(bits))
		default:
			p.fail(p.errorf(pos, "syntax error: expected a value (\"string\", <cells>, [bytes] or &label), found %s", p.found()))
		}
		size += len(pt.data)
		if size > MaxValueSize {
			p.fail(p.tooBig(pos, "property value longer than %d bytes", MaxValueSize))
		}
		parts = append(parts, pt)
		p.skipSpace()
		if p.peek() != ',' {
			return parts
		}
		p.advance(1)
	}
}

// str reads a double-quoted string with C escapes; the result ends in NUL.
func (p *parser) str() []byte {
	start := p.pos()
	p.advance(1)
	var out []byte
	for {
		if p.eof() {
			p.fail(p.errorf(start, "unterminated string"))
		}
		c := p.peek()
		if c == '"' {
			p.advance(1)
			break
		}
		if c == '\\' {
			out = append(out, p.escape())
			continue
		}
		out = append(out, c)
		p.advance(1)
		if len(out) > MaxValueSize {
			p.fail(p.tooBig(start, "string longer than %d bytes", MaxValueSize))
		}
	}
	return append(out, 0)
}

// escape reads a backslash escape (dtc's get_escape_char).
func (p *parser) escape() byte {
	pos := p.pos()
	p.advance(1)
	c := p.peek()
	if p.eof() {
		p.fail(p.errorf(pos, "unterminated escape sequence"))
	}
	p.advance(1)
	switch c {
	case 'a':
		return '\a'
	case 'b':
		return '\b'
	case 't':
		return '\t'
	case 'n':
		return '\n'
	case 'v':
		return '\v'
	case 'f':
		return '\f'
	case 'r':
		return '\r'
	case 'x':
		v, n := 0, 0
		for ; n < 2 && isHex(p.peek()); n++ {
			v = v*16 + hexVal(p.peek())
			p.advance(1)
		}
		if n == 0 {
			p.fail(p.errorf(pos, "\\x used with no following hex digits"))
		}
		return byte(v)
	case '0', '1', '2', '3', '4', '5', '6', '7':
		v := int(c - '0')
		for n := 1; n < 3 && p.peek() >= '0' && p.peek() <= '7'; n++ {
			v = v*8 + int(p.peek()-'0')
			p.advance(1)
		}
		if v > 0xff {
			p.fail(p.errorf(pos, "octal escape \\%o out of range", v))
		}
		return byte(v)
	default:
		return c
	}
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func hexVal(c byte) int {
	switch {
	case c >= 'a':
		return int(c-'a') + 10
	case c >= 'A':
		return int(c-'A') + 10
	}
	return int(c - '0')
}

// bytes reads [0a 1b ...].
func (p *parser) bytes() []byte {
	start := p.pos()
	p.advance(1)
	var out []byte
	for {
		p.skipSpace()
		if p.eof() {
			p.fail(p.errorf(start, "syntax error: end of file inside the byte string opened here"))
		}
		if p.peek() == ']' {
			p.advance(1)
			return out
		}
		pos := p.pos()
		if !isHex(p.peek()) || !isHex(p.peekAt(1)) {
			p.fail(p.errorf(pos, "syntax error: a byte string holds pairs of hex digits, found %s", p.found()))
		}
		out = append(out, byte(hexVal(p.peek())<<4|hexVal(p.peekAt(1))))
		p.advance(2)
		if len(out) > MaxValueSize {
			p.fail(p.tooBig(start, "byte string longer than %d bytes", MaxValueSize))
		}
	}
}

// cells reads <...> with elements of bits bits: integers, character
// literals, (expressions) and, for 32 bits, &references.
func (p *parser) cells(bits int) part {
	start := p.pos()
	p.advance(1) // '<'
	var pt part
	for {
		p.skipSpace()
		pos := p.pos()
		switch c := p.peek(); {
		case p.eof():
			p.fail(p.errorf(start, "syntax error: end of file inside the cell list opened here"))
		case c == '>':
			p.advance(1)
			return pt
		case c == '&':
			if bits != 32 {
				p.fail(p.errorf(pos, "References are only allowed in arrays with 32-bit elements."))
			}
			r := p.reference()
			r.Offset = len(pt.data)
			pt.cellRefs = append(pt.cellRefs, r)
			pt.data = append(pt.data, 0xff, 0xff, 0xff, 0xff)
		default:
			v := p.primary(0)
			if bits < 64 {
				mask := uint64(1)<<bits - 1
				if v > mask && v|mask != ^uint64(0) {
					p.fail(p.errorf(pos, "Value 0x%x out of range for %d-bit array element", v, bits))
				}
			}
			switch bits {
			case 8:
				pt.data = append(pt.data, byte(v))
			case 16:
				pt.data = binary.BigEndian.AppendUint16(pt.data, uint16(v))
			case 32:
				pt.data = binary.BigEndian.AppendUint32(pt.data, uint32(v))
			default:
				pt.data = binary.BigEndian.AppendUint64(pt.data, v)
			}
		}
		if len(pt.data) > MaxValueSize {
			p.fail(p.tooBig(start, "cell list longer than %d bytes", MaxValueSize))
		}
	}
}

// literal reads an integer literal: decimal, 0x hex or 0 octal, with an
// optional U, L, UL, LL or ULL suffix.
func (p *parser) literal() uint64 {
	pos := p.pos()
	start := p.off
	if p.peek() == '0' && (p.peekAt(1) == 'x' || p.peekAt(1) == 'X') {
		p.advance(2)
		for isHex(p.peek()) {
			p.advance(1)
		}
	} else {
		for p.peek() >= '0' && p.peek() <= '9' {
			p.advance(1)
		}
	}
	text := string(p.src[start:p.off])
	if text == "" {
		p.fail(p.errorf(pos, "syntax error: expected a number, found %s", p.found()))
	}
	for _, s := range []string{"ULL", "UL", "LL", "U", "L"} {
		if p.hasPrefix(s) || p.hasPrefix(lower(s)) {
			p.advance(len(s))
			break
		}
	}
	if c := p.peek(); isLabelChar(c) || c == '.' {
		p.fail(p.errorf(pos, "syntax error: bad integer literal %s%c", text, p.peek()))
	}
	v, err := strconv.ParseUint(text, 0, 64)
	if err != nil {
		p.fail(p.errorf(pos, "Integer literal '%s' out of range", text))
	}
	return v
}

func lower(s string) string {
	b := []byte(s)
	for i := range b {
		b[i] += 'a' - 'A'
	}
	return string(b)
}

// primary is dtc's integer_prim: a literal, a character literal or a
// parenthesised expression.
func (p *parser) primary(d int) uint64 {
	pos := p.pos()
	switch c := p.peek(); {
	case c >= '0' && c <= '9':
		return p.literal()
	case c == '\'':
		p.advance(1)
		var v byte
		if p.peek() == '\\' {
			v = p.escape()
		} else {
			if p.eof() || p.peek() == '\'' {
				p.fail(p.errorf(pos, "empty character literal"))
			}
			v = p.peek()
			p.advance(1)
		}
		if p.peek() != '\'' {
			p.fail(p.errorf(pos, "unterminated character literal"))
		}
		p.advance(1)
		return uint64(v)
	case c == '(':
		if d >= maxExprDepth {
			p.fail(p.tooBig(pos, "expression nested more than %d deep", maxExprDepth))
		}
		p.advance(1)
		v := p.expr(d + 1)
		p.expect(')', "')'")
		return v
	}
	p.fail(p.errorf(pos, "syntax error: expected a number, 'c' or (expression), found %s", p.found()))
	return 0
}

// expr reads a C expression with ?: at the top (uint64 arithmetic, as
// dtc's).
func (p *parser) expr(d int) uint64 {
	cond := p.binary(1, d)
	p.skipSpace()
	if p.peek() != '?' {
		return cond
	}
	p.advance(1)
	a := p.expr(d + 1)
	p.expect(':', "':' of ?:")
	b := p.expr(d + 1)
	if cond != 0 {
		return a
	}
	return b
}

// binaryOps are the binary operators by precedence, lowest first; within
// a level, longer spellings come first so "<<" is not read as "<".
var binaryOps = [][]string{
	1: {"||"}, 2: {"&&"}, 3: {"|"}, 4: {"^"}, 5: {"&"},
	6: {"==", "!="}, 7: {"<=", ">=", "<", ">"}, 8: {"<<", ">>"},
	9: {"+", "-"}, 10: {"*", "/", "%"},
}

// peekOp returns the operator at the cursor of precedence at least min,
// and its precedence; "" when there is none.
func (p *parser) peekOp(min int) (string, int) {
	p.skipSpace()
	best, prec := "", 0
	for level := 1; level < len(binaryOps); level++ {
		for _, op := range binaryOps[level] {
			if p.hasPrefix(op) && len(op) > len(best) {
				best, prec = op, level
			}
		}
	}
	if prec < min {
		return "", 0
	}
	return best, prec
}

// binary reads operands joined by operators of precedence min and above.
func (p *parser) binary(min, d int) uint64 {
	left := p.unary(d)
	for {
		p.skipSpace()
		pos := p.pos()
		op, prec := p.peekOp(min)
		if op == "" {
			return left
		}
		p.advance(len(op))
		right := p.binary(prec+1, d)
		left = p.apply(op, left, right, pos)
	}
}

// unary reads - ~ ! and a primary.
func (p *parser) unary(d int) uint64 {
	p.skipSpace()
	if d >= maxExprDepth {
		p.fail(p.tooBig(p.pos(), "expression nested more than %d deep", maxExprDepth))
	}
	switch p.peek() {
	case '-':
		p.advance(1)
		return -p.unary(d + 1)
	case '~':
		p.advance(1)
		return ^p.unary(d + 1)
	case '!':
		p.advance(1)
		return b2u(p.unary(d+1) == 0)
	}
	return p.primary(d)
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func (p *parser) apply(op string, a, b uint64, pos Pos) uint64 {
	switch op {
	case "||":
		return b2u(a != 0 || b != 0)
	case "&&":
		return b2u(a != 0 && b != 0)
	case "|":
		return a | b
	case "^":
		return a ^ b
	case "&":
		return a & b
	case "==":
		return b2u(a == b)
	case "!=":
		return b2u(a != b)
	case "<":
		return b2u(a < b)
	case ">":
		return b2u(a > b)
	case "<=":
		return b2u(a <= b)
	case ">=":
		return b2u(a >= b)
	case "<<":
		return a << (b & 63)
	case ">>":
		return a >> (b & 63)
	case "+":
		return a + b
	case "-":
		return a - b
	case "*":
		return a * b
	}
	if b == 0 {
		p.fail(p.errorf(pos, "Division by zero"))
	}
	if op == "/" {
		return a / b
	}
	return a % b
}
