package dtc

import (
	"fmt"

	"github.com/drvsim/drvsim/device"
)

// Bounds on a source. They are far above a real board's (a large SoC's
// tree has a few thousand nodes) and keep a hostile input from eating the
// machine.
const (
	// MaxSourceSize is the largest source accepted, in bytes.
	MaxSourceSize = 1 << 20
	// MaxDepth is the deepest nesting of nodes (the kernel's
	// FDT_MAX_DEPTH is 64; dtc has none).
	MaxDepth = 64
	// MaxNodes is the most nodes one source may define.
	MaxNodes = 1 << 14
	// MaxProperties is the most properties one source may define.
	MaxProperties = 1 << 16
	// MaxValueSize is the largest property value, in bytes.
	MaxValueSize = 1 << 16
	// maxExprDepth bounds the nesting of parenthesised expressions.
	maxExprDepth = 64
)

// Error is a refused source: where, and what dtc (or drvsim's stricter
// check) says. It matches device.ErrInvalid with errors.Is, or
// device.ErrFileTooBig when a bound was passed.
type Error struct {
	// File is the source's name.
	File string
	// Pos is where the problem is.
	Pos Pos
	// Msg says what is wrong, in dtc's words where dtc has some.
	Msg string

	errno error
}

// Error renders the problem as "file:line:col: msg".
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Pos.Line, e.Pos.Col, e.Msg)
}

// Unwrap returns the errno the error stands for.
func (e *Error) Unwrap() error { return e.errno }

// errorf builds an ErrInvalid Error at pos.
func (p *parser) errorf(pos Pos, format string, args ...any) *Error {
	return &Error{File: p.file, Pos: pos, Msg: fmt.Sprintf(format, args...), errno: device.ErrInvalid}
}

// tooBig builds an ErrFileTooBig Error at pos.
func (p *parser) tooBig(pos Pos, format string, args ...any) *Error {
	return &Error{File: p.file, Pos: pos, Msg: fmt.Sprintf(format, args...), errno: device.ErrFileTooBig}
}

// bail is the panic value the parser unwinds with; Parse recovers it.
type bail struct{ err *Error }

func (p *parser) fail(err *Error) { panic(bail{err}) }
