package env_test

import (
	"testing"
	"time"

	"github.com/drvsim/drvsim/env"
	"github.com/stretchr/testify/assert"
)

type key struct{}

func TestLocalIsPerMachine(t *testing.T) {
	a, b := env.New(), env.New()
	made := 0
	mk := func() any { made++; return new(int) }
	pa := a.Local(key{}, mk).(*int)
	assert.Same(t, pa, a.Local(key{}, mk).(*int), "created once")
	pb := b.Local(key{}, mk).(*int)
	assert.NotSame(t, pa, pb, "machines share nothing")
	assert.Equal(t, 2, made)
}

func TestCloseRunsAtCloseLastFirstOnce(t *testing.T) {
	e := env.New()
	var order []int
	e.AtClose(func() { order = append(order, 1) })
	e.AtClose(func() { order = append(order, 2) })
	assert.False(t, e.Closed())
	e.Close()
	e.Close()
	assert.True(t, e.Closed())
	assert.Equal(t, []int{2, 1}, order)
	e.AtClose(func() { order = append(order, 3) })
	assert.Equal(t, []int{2, 1, 3}, order, "registered after Close: runs at once")
}

// Each callback the plain clock fires sees the time of its own deadline.
func TestClockCallbacksSeeTheirDeadline(t *testing.T) {
	e := env.New()
	var seen []time.Duration
	for _, d := range []time.Duration{30, 10, 20} {
		e.AtTime(d*time.Millisecond, func() { seen = append(seen, e.Now()) })
	}
	e.Advance(time.Second)
	assert.Equal(t, []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 30 * time.Millisecond}, seen)
	assert.Equal(t, time.Second, e.Now())
}
