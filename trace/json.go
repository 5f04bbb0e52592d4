package trace

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// jsonEvent fixes the field names of the JSON form of an Event. They are
// part of drvsim's interface: tools parse them, so they never change.
type jsonEvent struct {
	Seq  uint64    `json:"seq"`
	Task string    `json:"task"`
	Kind Kind      `json:"kind"`
	Dev  string    `json:"dev"`
	Func string    `json:"func"`
	Msg  string    `json:"msg"`
	Raw  *rawEvent `json:"raw,omitempty"`
}

// rawEvent holds, base64-encoded, the exact bytes of the fields of an
// event that are not valid UTF-8.
type rawEvent struct {
	Task string `json:"task,omitempty"`
	Kind string `json:"kind,omitempty"`
	Dev  string `json:"dev,omitempty"`
	Func string `json:"func,omitempty"`
	Msg  string `json:"msg,omitempty"`
}

// raw returns what field s becomes in JSON (s with every byte that is not
// UTF-8 replaced by U+FFFD) and, when that differs from s, the raw
// field's base64 value.
func raw(s string, any *bool) (text, enc string) {
	if utf8.ValidString(s) {
		return s, ""
	}
	*any = true
	return strings.ToValidUTF8(s, "\uFFFD"), base64.StdEncoding.EncodeToString([]byte(s))
}

// WriteJSON writes events as JSON lines: one object per event, one event
// per line, with the fields seq, task, kind, dev, func and msg always
// present (empty strings when unset), in that order. The output is valid
// UTF-8, and control characters, U+2028 and U+2029 are escaped, so that an
// event is always one line.
//
// A field that is not valid UTF-8 (a driver may put any bytes in a name or
// a message) is written with each invalid byte replaced by U+FFFD, and its
// exact bytes go, base64-encoded (RFC 4648, padded), under the same name in
// an extra object "raw" that follows msg, e.g.
// {"seq":1,...,"msg":"id \ufffd","raw":{"msg":"aWQg/w=="}}. An event whose
// fields are all valid UTF-8 has no "raw". ReadJSON restores the exact
// bytes, so that ReadJSON(WriteJSON(events)) gives back events byte for
// byte.
func WriteJSON(w io.Writer, events []Event) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, e := range events {
		je := jsonEvent{Seq: e.Seq}
		var r rawEvent
		invalid := false
		var kind string
		je.Task, r.Task = raw(e.Task, &invalid)
		kind, r.Kind = raw(string(e.Kind), &invalid)
		je.Kind = Kind(kind)
		je.Dev, r.Dev = raw(e.Dev, &invalid)
		je.Func, r.Func = raw(e.Func, &invalid)
		je.Msg, r.Msg = raw(e.Msg, &invalid)
		if invalid {
			je.Raw = &r
		}
		if err := enc.Encode(je); err != nil {
			return err
		}
	}
	return nil
}

// ReadJSON parses JSON lines written by WriteJSON back into events,
// restoring from "raw" the exact bytes of fields that were not UTF-8.
func ReadJSON(r io.Reader) ([]Event, error) {
	dec := json.NewDecoder(r)
	var out []Event
	for dec.More() {
		var je jsonEvent
		if err := dec.Decode(&je); err != nil {
			return out, err
		}
		e := Event{Seq: je.Seq, Task: je.Task, Kind: je.Kind, Dev: je.Dev, Func: je.Func, Msg: je.Msg}
		if rw := je.Raw; rw != nil {
			var kind string
			for _, f := range []struct {
				enc string
				dst *string
			}{{rw.Task, &e.Task}, {rw.Kind, &kind}, {rw.Dev, &e.Dev}, {rw.Func, &e.Func}, {rw.Msg, &e.Msg}} {
				if f.enc == "" {
					continue
				}
				b, err := base64.StdEncoding.DecodeString(f.enc)
				if err != nil {
					return out, fmt.Errorf("trace: event %d: raw field: %w", je.Seq, err)
				}
				*f.dst = string(b)
			}
			if rw.Kind != "" {
				e.Kind = Kind(kind)
			}
		}
		out = append(out, e)
	}
	return out, nil
}
