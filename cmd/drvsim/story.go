package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/drvsim/drvsim/drivers/usbsim/scenario"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
)

// story writes a narrated run in one of the trace formats: a title, short
// headings between the phases, the trace events of each phase, and notes
// (results, reports, replay commands).
//
//   - text: everything on stdout; "== N. heading" lines, events as
//     trace.Text, notes as they are, a blank line before each heading.
//   - json: stdout carries the events only, one JSON object per line
//     (trace.WriteJSON), so it stays machine-parseable; the title, the
//     headings and the notes go to stderr, as in text.
//   - mermaid: a Markdown document on stdout: the title as "# ...", each
//     heading as "## N. heading", the events of each phase as a ```mermaid
//     block (trace.WriteMermaid) and the notes as a ```text block.
//
// The first write error is kept in err; later writes are skipped.
type story struct {
	format trace.Format
	out    io.Writer // events (and everything but in json mode)
	narr   io.Writer // title, headings, notes
	steps  int       // numbered headings written so far
	wrote  bool      // something was written to narr
	err    error
}

// newStory returns a story writing in format f to stdout (and, in json
// mode, its narration to stderr).
func newStory(f trace.Format, stdout, stderr io.Writer) *story {
	s := &story{format: f, out: stdout, narr: stdout}
	if f == trace.FormatJSON {
		s.narr = stderr
	}
	return s
}

func (s *story) printf(w io.Writer, format string, args ...any) {
	if s.err == nil {
		_, s.err = fmt.Fprintf(w, format, args...)
	}
}

// title opens the story: what it shows, in one line.
func (s *story) title(cmd, about string) {
	if s.format == trace.FormatMermaid {
		s.printf(s.narr, "# %s\n\n%s\n", cmd, about)
	} else {
		s.printf(s.narr, "%s: %s\n", cmd, about)
	}
	s.wrote = true
}

// step writes the next numbered heading.
func (s *story) step(heading string) {
	s.steps++
	s.section(fmt.Sprintf("%d. %s", s.steps, heading))
}

// section writes an unnumbered heading.
func (s *story) section(heading string) {
	if s.wrote {
		s.printf(s.narr, "\n")
	}
	if s.format == trace.FormatMermaid {
		s.printf(s.narr, "## %s\n", heading)
	} else {
		s.printf(s.narr, "== %s\n", heading)
	}
	s.wrote = true
}

// events writes the events of the current phase.
func (s *story) events(evs []trace.Event) {
	if s.err != nil || len(evs) == 0 {
		return
	}
	switch s.format {
	case trace.FormatMermaid:
		s.printf(s.out, "\n```mermaid\n")
		if s.err == nil {
			s.err = trace.WriteMermaid(s.out, evs)
		}
		s.printf(s.out, "```\n")
	default:
		if s.err == nil {
			s.err = trace.Write(s.out, s.format, evs)
		}
	}
}

// notes writes lines of text: results, a report, a replay command. A line
// may hold several lines.
func (s *story) notes(lines ...string) {
	if len(lines) == 0 {
		return
	}
	text := strings.Join(lines, "\n")
	if s.format == trace.FormatMermaid {
		s.printf(s.narr, "\n```text\n%s\n```\n", text)
	} else {
		s.printf(s.narr, "%s\n", text)
	}
	s.wrote = true
}

// legend explains how to read the text trace lines that follow; the JSON
// and Mermaid forms name their parts themselves (field names,
// participants), so it is text only.
func (s *story) legend(lines ...string) {
	if s.format == trace.FormatText {
		s.notes(lines...)
	}
}

// phases writes phases, each as a numbered step.
func (s *story) phases(ps []scenario.Phase) {
	for _, p := range ps {
		s.step(p.Heading)
		s.events(p.Events)
		s.notes(p.Notes...)
	}
}

// replay ends a story whose exploration failed with the step that replays
// the failing run r of explore scenario name: the drvsim command, which
// prints that run again (its report, schedule and trace), and the same
// through go run for a reader in a checkout who has not installed it.
func (s *story) replay(name string, r *sim.Result) {
	cmd := replayCommand(name, r)
	s.step(fmt.Sprintf("replay it: this command runs seed %d again, the same schedule, and prints that run (report, schedule, trace)", r.Seed))
	s.notes(cmd, "    (in a checkout of drvsim: go run ./cmd/"+cmd+")")
}
