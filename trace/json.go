package trace

import (
	"encoding/json"
	"io"
)

// jsonEvent fixes the field names of the JSON form of an Event. They are
// part of drvsim's interface: tools parse them, so they never change.
type jsonEvent struct {
	Seq  uint64 `json:"seq"`
	Task string `json:"task"`
	Kind Kind   `json:"kind"`
	Dev  string `json:"dev"`
	Func string `json:"func"`
	Msg  string `json:"msg"`
}

// WriteJSON writes events as JSON lines: one object per event, one event
// per line, with the fields seq, task, kind, dev, func and msg always
// present (empty strings when unset), in that order.
func WriteJSON(w io.Writer, events []Event) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, e := range events {
		if err := enc.Encode(jsonEvent(e)); err != nil {
			return err
		}
	}
	return nil
}

// ReadJSON parses JSON lines written by WriteJSON back into events.
func ReadJSON(r io.Reader) ([]Event, error) {
	dec := json.NewDecoder(r)
	var out []Event
	for dec.More() {
		var je jsonEvent
		if err := dec.Decode(&je); err != nil {
			return out, err
		}
		out = append(out, Event(je))
	}
	return out, nil
}
