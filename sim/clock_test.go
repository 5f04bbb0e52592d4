package sim_test

import (
	"testing"
	"time"

	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/sim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSleepersWakeInDeadlineOrder(t *testing.T) {
	for seed := uint64(0); seed < 10; seed++ {
		var woke []string
		var at []time.Duration
		var busyNow []time.Duration
		r := sim.Run(sim.Config{Seed: seed}, func(s *sim.Sim) {
			sleeper := func(name string, d time.Duration) {
				s.Go(name, func() {
					s.Sleep(d)
					woke = append(woke, name)
					at = append(at, s.Now())
				})
			}
			sleeper("slow", 30*time.Millisecond)
			sleeper("fast", 10*time.Millisecond)
			s.Go("busy", func() {
				for i := 0; i < 5; i++ {
					busyNow = append(busyNow, s.Now())
					s.CondResched("work")
				}
			})
		})
		require.False(t, r.Failed(), r.String())
		assert.Equal(t, []string{"fast", "slow"}, woke)
		assert.Equal(t, []time.Duration{10 * time.Millisecond, 30 * time.Millisecond}, at)
		assert.Equal(t, make([]time.Duration, 5), busyNow, "the clock stands still while a task can run")
		assert.Equal(t, 30*time.Millisecond, r.Now)
	}
}

func TestBlockTimeout(t *testing.T) {
	var got []bool
	var when []time.Duration
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		flag := false
		w := sched.Wait{What: "flag"}
		s.Go("waiter", func() {
			got = append(got, s.BlockTimeout(w, func() bool { return flag }, 5*time.Millisecond))
			when = append(when, s.Now())
			got = append(got, s.BlockTimeout(w, func() bool { return flag }, time.Second))
			when = append(when, s.Now())
		})
		s.Go("setter", func() {
			s.Sleep(20 * time.Millisecond)
			flag = true
		})
	})
	require.False(t, r.Failed(), r.String())
	assert.Equal(t, []bool{false, true}, got)
	assert.Equal(t, []time.Duration{5 * time.Millisecond, 20 * time.Millisecond}, when)
}
