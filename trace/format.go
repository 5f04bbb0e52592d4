package trace

import (
	"errors"
	"fmt"
	"io"
)

// Format names a way to render a trace: plain text (Event.String, one line
// per event), JSON lines (one object per event) or a Mermaid sequence
// diagram with the tasks as participants.
type Format string

// The trace formats of the drvsim command (--format).
const (
	FormatText    Format = "text"
	FormatJSON    Format = "json"
	FormatMermaid Format = "mermaid"
)

// Formats lists the formats in the order the command's help shows them.
var Formats = []Format{FormatText, FormatJSON, FormatMermaid}

// ErrUnknownFormat is returned by ParseFormat for a name that is not one of
// Formats.
var ErrUnknownFormat = errors.New("trace: unknown format")

// ParseFormat returns the Format named s ("text", "json" or "mermaid").
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("%w %q (text, json, mermaid)", ErrUnknownFormat, s)
}

// Write renders events to w in format f.
func Write(w io.Writer, f Format, events []Event) error {
	switch f {
	case FormatText, "":
		_, err := io.WriteString(w, Text(events))
		return err
	case FormatJSON:
		return WriteJSON(w, events)
	case FormatMermaid:
		return WriteMermaid(w, events)
	}
	return fmt.Errorf("%w %q", ErrUnknownFormat, string(f))
}
