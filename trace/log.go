package trace

import (
	"slices"
	"sort"
	"strings"
	"sync"
)

// Log records the events of one simulated system. The zero value is not
// usable; create one with NewLog. A nil *Log is valid and records nothing, so
// components can be used untraced.
//
// Log is safe for concurrent use. Sequence numbers are assigned under the
// log's lock, so the recorded order is the order of Emit calls.
type Log struct {
	mu       sync.Mutex
	events   []Event
	seq      uint64
	subs     []subscriber
	nextSub  int
	taskName func() string
	limit    int
}

type subscriber struct {
	id int
	fn func(Event)
}

// NewLog returns an empty event log.
func NewLog() *Log { return &Log{} }

// SetTaskFunc installs the function that names the current simulated task;
// the deterministic scheduler sets it so every event carries its task.
func (l *Log) SetTaskFunc(f func() string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.taskName = f
	l.mu.Unlock()
}

// SetLimit bounds how many events the log keeps (the oldest are dropped);
// 0, the default, keeps all. Sequence numbers keep counting. Benchmarks of
// large systems use it to keep memory flat.
func (l *Log) SetLimit(n int) {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.limit = n
	l.mu.Unlock()
}

// Grow makes room for n more events without reallocating: a hint from a
// caller that knows about how many are coming (the simulator, which runs
// the same scenario many times, sizes each run's log from the last).
func (l *Log) Grow(n int) {
	if l == nil || n <= 0 {
		return
	}
	l.mu.Lock()
	l.events = slices.Grow(l.events, n)
	l.mu.Unlock()
}

// Len returns the number of events the log holds.
func (l *Log) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.kept())
}

// Emit records an event, assigning its sequence number (and task, when a
// task function is set), and passes it to every subscriber. Subscribers run
// synchronously, in subscription order, outside the log's lock.
func (l *Log) Emit(e Event) Event {
	if l == nil {
		return e
	}
	l.mu.Lock()
	l.seq++
	e.Seq = l.seq
	if e.Task == "" && l.taskName != nil {
		e.Task = l.taskName()
	}
	l.events = append(l.events, e)
	if l.limit > 0 && len(l.events) >= 2*l.limit {
		// Compact only when twice the limit is held, so dropping the
		// oldest events costs O(1) amortised per Emit.
		n := copy(l.events, l.events[len(l.events)-l.limit:])
		clear(l.events[n:])
		l.events = l.events[:n]
	}
	subs := l.subs
	l.mu.Unlock()
	for _, s := range subs {
		s.fn(e)
	}
	return e
}

// Subscribe calls fn for every event emitted from now on, until the returned
// cancel function is called.
func (l *Log) Subscribe(fn func(Event)) (cancel func()) {
	if l == nil {
		return func() {}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nextSub++
	id := l.nextSub
	// copy-on-write so Emit can iterate without the lock
	subs := make([]subscriber, len(l.subs), len(l.subs)+1)
	copy(subs, l.subs)
	l.subs = append(subs, subscriber{id: id, fn: fn})
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		out := make([]subscriber, 0, len(l.subs))
		for _, s := range l.subs {
			if s.id != id {
				out = append(out, s)
			}
		}
		l.subs = out
	}
}

// Events returns a copy of the recorded events.
func (l *Log) Events() []Event {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.kept()...)
}

// kept returns the events the limit keeps: all, or the newest limit.
func (l *Log) kept() []Event {
	if l.limit > 0 && len(l.events) > l.limit {
		return l.events[len(l.events)-l.limit:]
	}
	return l.events
}

// Since returns the events with a sequence number greater than seq.
func (l *Log) Since(seq uint64) []Event {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	evs := l.kept()
	// Sequence numbers increase along the slice: find the first newer one.
	i := sort.Search(len(evs), func(i int) bool { return evs[i].Seq > seq })
	return append([]Event(nil), evs[i:]...)
}

// Seq returns the sequence number of the last event recorded.
func (l *Log) Seq() uint64 {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq
}

// Reset drops every recorded event and restarts numbering at 1.
func (l *Log) Reset() {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.events = nil
	l.seq = 0
	l.mu.Unlock()
}

// String renders every recorded event, one per line.
func (l *Log) String() string { return Text(l.Events()) }

// Text renders events one per line, with Event.String.
func Text(events []Event) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Filter returns the events for which keep returns true.
func Filter(events []Event, keep func(Event) bool) []Event {
	var out []Event
	for _, e := range events {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// OfKind is a Filter predicate that keeps the given kinds.
func OfKind(kinds ...Kind) func(Event) bool {
	return func(e Event) bool {
		for _, k := range kinds {
			if e.Kind == k {
				return true
			}
		}
		return false
	}
}

// Shorts renders events with Event.Short, one string each: the form tests
// compare against an expected order.
func Shorts(events []Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Short()
	}
	return out
}
