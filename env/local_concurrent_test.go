package env_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/drvsim/drvsim/env"
)

type keyA struct{}
type keyB struct{}

// A local value is created once per machine and key, even by concurrent first
// callers; machines and keys share nothing.
func TestLocalOncePerMachineAndKey(t *testing.T) {
	e1, e2 := env.New(), env.New()
	var created atomic.Int32
	mk := func() any { created.Add(1); return new(int) }
	var wg sync.WaitGroup
	got := make([]any, 8)
	for i := range got {
		wg.Go(func() { got[i] = e1.Local(keyA{}, mk) })
	}
	wg.Wait()
	assert.Equal(t, int32(1), created.Load())
	for _, g := range got {
		assert.Same(t, got[0].(*int), g.(*int))
	}
	assert.NotSame(t, got[0].(*int), e2.Local(keyA{}, mk).(*int), "another machine")
	assert.NotSame(t, got[0].(*int), e1.Local(keyB{}, mk).(*int), "another key")
	assert.Equal(t, int32(3), created.Load())
}
