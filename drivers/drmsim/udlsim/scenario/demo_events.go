package scenario

import "github.com/drvsim/drvsim/trace"

// Events returns the events the demo narrates, the ones Trace prints: from
// the demo's first note on, the notes and the DRM, USB, devres, revocable
// and memory steps, so that a renderer can show them in another format
// (JSON lines, a Mermaid diagram) or cut them into phases at the notes.
func (r *DemoResult) Events() []trace.Event {
	if r == nil || r.Run == nil {
		return nil
	}
	var out []trace.Event
	started := false
	for _, e := range r.Run.Events {
		started = started || e.Kind == trace.Note
		if started && keepInDemo(e) {
			out = append(out, e)
		}
	}
	return out
}
