package trace

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// KernelTask is the participant name a Mermaid diagram gives to events
// recorded outside any simulated task (Event.Task empty): the setup and
// teardown a scenario runs before and after its tasks.
const KernelTask = "kernel"

// WriteMermaid writes events as a Mermaid sequence diagram: every task is a
// participant, in order of first appearance; an event is a note over the
// task that emitted it; a context switch of the deterministic scheduler
// (Func "schedule", Msg "... -> next") is an arrow from the task giving up
// the CPU to the task getting it. Paste the output into any Mermaid renderer
// (GitHub renders a ```mermaid block).
func WriteMermaid(w io.Writer, events []Event) error {
	bw := bufio.NewWriter(w)
	ids := map[string]string{}
	var order []string
	participant := func(task string) string {
		if task == "" {
			task = KernelTask
		}
		if id, ok := ids[task]; ok {
			return id
		}
		id := fmt.Sprintf("T%d", len(order))
		ids[task] = id
		order = append(order, task)
		return id
	}
	// Participants first, so that they are declared in order of first
	// appearance (switch targets included).
	for _, e := range events {
		participant(e.Task)
		if to, ok := switchTarget(e); ok {
			participant(to)
		}
	}
	fmt.Fprintln(bw, "sequenceDiagram")
	for _, task := range order {
		fmt.Fprintf(bw, "    participant %s as %s\n", ids[task], mermaidText(task))
	}
	for _, e := range events {
		from := participant(e.Task)
		if to, ok := switchTarget(e); ok {
			fmt.Fprintf(bw, "    %s->>%s: %d %s\n", from, participant(to), e.Seq, mermaidText(e.Msg))
			continue
		}
		var note strings.Builder
		e.body(&note, mermaidText)
		fmt.Fprintf(bw, "    Note over %s: %d %s\n", from, e.Seq, note.String())
	}
	return bw.Flush()
}

// switchTarget returns the task a scheduler event switches to.
func switchTarget(e Event) (string, bool) {
	if e.Kind != Sched || e.Func != "schedule" {
		return "", false
	}
	i := strings.LastIndex(e.Msg, " -> ")
	if i < 0 {
		return "", false
	}
	to := strings.TrimSpace(e.Msg[i+len(" -> "):])
	return to, to != ""
}

// mermaidText makes s one line of Mermaid text: control characters and
// the rest are escaped first (Escape: a newline or a carriage return would
// end the statement), then the characters Mermaid gives a meaning to in
// message text (';' ends a statement, '#' starts an entity code, '%%' a
// comment, '<' '>' may be read as HTML) become Mermaid's #code; entities.
func mermaidText(s string) string {
	s = Escape(s)
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '#', ';', '%', '<', '>', '"', '{', '}':
			fmt.Fprintf(&b, "#%d;", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
