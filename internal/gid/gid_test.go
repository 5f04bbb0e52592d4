package gid

import (
	"sync"
	"testing"

	"github.com/drvsim/drvsim/internal/raceexit"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// deep recurses n frames with a large frame each, so the goroutine's stack
// grows (and is copied) before Get is called again.
func deep(n int) uint64 {
	var pad [512]byte
	if n == 0 {
		return Get() + uint64(pad[0])
	}
	return deep(n - 1)
}

// On amd64 and arm64 the descriptor offset is found, and Get agrees with
// runtime.Stack in every goroutine, also after its stack grew.
func TestGetIsTheStackTraceID(t *testing.T) {
	if !Fast() {
		t.Fatalf("the goroutine id offset was not found: Get parses runtime.Stack (1000x slower)")
	}
	if Get() != fromStack() {
		t.Fatalf("Get %d, runtime.Stack %d", Get(), fromStack())
	}
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Go(func() {
			id := Get()
			if id != fromStack() || deep(100) != id {
				t.Errorf("goroutine %d: Get %d, runtime.Stack %d", i, id, fromStack())
			}
		})
	}
	wg.Wait()
}

// Ids are never reused: goroutines started one after another, each after
// the previous one exited (so the runtime recycles their descriptors),
// still get new ids.
func TestIDsNotReused(t *testing.T) {
	seen := map[uint64]bool{Get(): true}
	for range 200 {
		ch := make(chan uint64)
		go func() { ch <- Get() }()
		id := <-ch
		if seen[id] {
			t.Fatalf("id %d reused", id)
		}
		seen[id] = true
	}
}

func BenchmarkGet(b *testing.B) {
	for b.Loop() {
		_ = Get()
	}
}

func BenchmarkStackTraceID(b *testing.B) {
	for b.Loop() {
		_ = fromStack()
	}
}
