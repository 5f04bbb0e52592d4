package trace_test

import (
	"testing"

	"github.com/drvsim/drvsim/trace"
)

// BenchmarkEmit is the baseline: an unbounded log.
func BenchmarkEmit(b *testing.B) {
	log := trace.NewLog()
	for b.Loop() {
		log.Emit(trace.Event{Func: "f"})
	}
}

// BenchmarkEmitLimited keeps the newest 4096 events: dropping the oldest
// must cost O(1) amortised, so its ns/op stays near BenchmarkEmit's.
func BenchmarkEmitLimited(b *testing.B) {
	log := trace.NewLog()
	log.SetLimit(4096)
	for b.Loop() {
		log.Emit(trace.Event{Func: "f"})
	}
}
