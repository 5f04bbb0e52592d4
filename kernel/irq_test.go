//lint:file-ignore SA2001 the tests take locks with empty critical sections on purpose: the lock itself is under test

package kernel_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type sensor struct{ name string }

func TestIRQHandlerRunsInHardirqContext(t *testing.T) {
	e := env.New()
	dev := &sensor{"tmp102"}
	var got []any
	var ctx []string
	require.NoError(t, kernel.RequestIRQ(e, 17, func(irq int, id any) kernel.IRQReturn {
		got = append(got, irq, id)
		ctx = e.Atomic()
		kernel.Msleep(e, time.Millisecond)
		return kernel.IRQHandled
	}, kernel.IRQFTriggerRising, "tmp102", dev))
	require.NoError(t, kernel.RaiseIRQ(e, 17))
	assert.Equal(t, []any{17, dev}, got)
	assert.Equal(t, []string{"hardirq 17"}, ctx)
	assert.Empty(t, e.Atomic())
	kept, total := e.Reports()
	require.Equal(t, 1, total)
	assert.Equal(t, "BUG: sleeping function called from invalid context at msleep", kept[0].Title)
	assert.Contains(t, kept[0].Details, "atomic because of: hardirq 17")
	st := kernel.IRQStat(e, 17)
	assert.Equal(t, kernel.IRQStats{Count: 1, Handlers: 1}, st)
	assert.Equal(t, "tmp102", kernel.FreeIRQ(e, 17, dev))
	assert.Equal(t, []string{"request_irq: irq 17 tmp102", "handle_irq_event: irq 17 tmp102", "free_irq: irq 17 tmp102"},
		events(e, kernel.KindIRQ))
}

func TestRequestIRQErrors(t *testing.T) {
	e := env.New()
	h := func(int, any) kernel.IRQReturn { return kernel.IRQHandled }
	id := &sensor{}
	for _, c := range []struct {
		name string
		err  error
	}{
		{"irq 0", kernel.RequestIRQ(e, 0, h, 0, "x", id)},
		{"irq NrIRQs", kernel.RequestIRQ(e, kernel.NrIRQs, h, 0, "x", id)},
		{"nil handler", kernel.RequestIRQ(e, 5, nil, 0, "x", id)},
		{"shared without dev_id", kernel.RequestIRQ(e, 5, h, kernel.IRQFShared, "x", nil)},
		{"unknown flags", kernel.RequestIRQ(e, 5, h, 1<<30, "x", id)},
		{"dev_id not comparable", kernel.RequestIRQ(e, 5, h, 0, "x", []int{1})},
		{"no functions", kernel.RequestThreadedIRQ(e, 5, nil, nil, kernel.IRQFOneshot, "x", id)},
		{"threaded without handler nor oneshot", kernel.RequestThreadedIRQ(e, 5, nil, h, 0, "x", id)},
		{"raise irq 0", kernel.RaiseIRQ(e, 0)},
		{"shared and no autoenable", kernel.RequestIRQ(e, 5, h, kernel.IRQFShared|kernel.IRQFNoAutoEn, "x", id)},
	} {
		assert.ErrorIs(t, c.err, device.ErrInvalid, c.name)
	}
	assert.Equal(t, []string{"request_threaded_irq: genirq: Threaded irq requested with handler=NULL and !ONESHOT for x (irq 5)"},
		events(e, trace.Warn))
	assert.Zero(t, kernel.IRQStat(e, 5).Handlers, "nothing was requested")

	require.NoError(t, kernel.RequestIRQ(e, 5, h, 0, "first", id))
	err := kernel.RequestIRQ(e, 5, h, kernel.IRQFShared, "second", &sensor{})
	assert.ErrorIs(t, err, device.ErrBusy)
	assert.Contains(t, events(e, trace.Warn), "request_irq: genirq: Flags mismatch irq 5. 00000080 (second) vs. 00000000 (first)")

	require.NoError(t, kernel.RequestIRQ(e, 6, h, kernel.IRQFShared|kernel.IRQFTriggerHigh, "a", id))
	assert.ErrorIs(t, kernel.RequestIRQ(e, 6, h, kernel.IRQFShared|kernel.IRQFTriggerLow, "b", &sensor{}), device.ErrBusy, "trigger mismatch")
	assert.NoError(t, kernel.RequestIRQ(e, 6, h, kernel.IRQFShared|kernel.IRQFTriggerHigh, "c", &sensor{}))
	assert.Equal(t, 2, kernel.IRQStat(e, 6).Handlers)
	assert.Equal(t, 1, kernel.IRQStat(e, 5).Handlers, "the failed request left the line as it was")
}

func TestSharedIRQAndSpurious(t *testing.T) {
	e := env.New()
	a, b := &sensor{"a"}, &sensor{"b"}
	var calls []string
	handler := func(mine bool) kernel.IRQHandler {
		return func(_ int, id any) kernel.IRQReturn {
			calls = append(calls, id.(*sensor).name)
			if mine {
				return kernel.IRQHandled
			}
			return kernel.IRQNone
		}
	}
	require.NoError(t, kernel.RequestIRQ(e, 30, handler(false), kernel.IRQFShared, "a", a))
	require.NoError(t, kernel.RequestIRQ(e, 30, handler(true), kernel.IRQFShared, "b", b))
	require.NoError(t, kernel.RaiseIRQ(e, 30))
	assert.Equal(t, []string{"a", "b"}, calls, "every handler on a shared line runs")
	assert.Zero(t, kernel.IRQStat(e, 30).Unhandled, "one of them handled it")
	assert.Equal(t, "a", kernel.FreeIRQ(e, 30, a))
	calls = nil
	b2 := *b
	assert.Equal(t, "", kernel.FreeIRQ(e, 30, &b2), "dev_id is compared by identity")
	require.NoError(t, kernel.RaiseIRQ(e, 30))
	assert.Equal(t, []string{"b"}, calls)
	kernel.FreeIRQ(e, 30, b)
	assert.Equal(t, "", kernel.FreeIRQ(e, 30, b))
	assert.Equal(t, []string{"free_irq: Trying to free already-free IRQ 30", "free_irq: Trying to free already-free IRQ 30"},
		events(e, trace.Warn))

	require.NoError(t, kernel.RaiseIRQ(e, 30))
	require.NoError(t, kernel.RaiseIRQ(e, 31))
	assert.Equal(t, uint64(1), kernel.IRQStat(e, 30).Spurious)
	assert.Equal(t, kernel.IRQStats{Count: 1, Spurious: 1}, kernel.IRQStat(e, 31))
	assert.Contains(t, events(e, kernel.KindIRQ), "handle_bad_irq: irq 31: no handler, spurious interrupt #1")
}

func TestThreadedIRQ(t *testing.T) {
	e := env.New()
	defer e.Close()
	var threadCtx atomic.Value
	var runs atomic.Int32
	release := make(chan struct{})
	require.NoError(t, kernel.RequestThreadedIRQ(e, 40, nil, func(int, any) kernel.IRQReturn {
		threadCtx.Store(len(e.Atomic()))
		kernel.Msleep(e, time.Millisecond) // the thread may sleep
		<-release
		runs.Add(1)
		return kernel.IRQHandled
	}, kernel.IRQFOneshot, "touch", nil))
	require.NoError(t, kernel.RaiseIRQ(e, 40))
	require.NoError(t, kernel.RaiseIRQ(e, 40)) // while the thread runs: masked, pending
	assert.Contains(t, events(e, kernel.KindIRQ), "handle_edge_irq: irq 40 disabled: pending")
	synced := make(chan struct{})
	go func() { kernel.SynchronizeIRQ(e, 40); close(synced) }()
	select {
	case <-synced:
		t.Fatal("synchronize_irq returned while the thread ran")
	case <-time.After(time.Millisecond):
	}
	release <- struct{}{} // the first run; the line is unmasked and the pending raise delivered
	release <- struct{}{}
	<-synced
	assert.Equal(t, int32(2), runs.Load())
	assert.Equal(t, 0, threadCtx.Load(), "the thread function runs in process context")
	_, total := e.Reports()
	assert.Zero(t, total)
	assert.Equal(t, uint64(2), kernel.IRQStat(e, 40).Count)
	assert.Contains(t, events(e, kernel.KindIRQ), "irq_finalize_oneshot: irq 40 unmasked: delivering the interrupt raised meanwhile")
	assert.Equal(t, "touch", kernel.FreeIRQ(e, 40, nil))
}

func TestDisableEnableIRQ(t *testing.T) {
	e := env.New()
	n := 0
	require.NoError(t, kernel.RequestIRQ(e, 8, func(int, any) kernel.IRQReturn { n++; return kernel.IRQHandled }, 0, "btn", nil))
	kernel.DisableIRQ(e, 8)
	kernel.DisableIRQNosync(e, 8)
	assert.Equal(t, 2, kernel.IRQStat(e, 8).Depth)
	require.NoError(t, kernel.RaiseIRQ(e, 8))
	require.NoError(t, kernel.RaiseIRQ(e, 8))
	assert.Zero(t, n)
	kernel.EnableIRQ(e, 8)
	assert.Zero(t, n, "still disabled once")
	kernel.EnableIRQ(e, 8)
	assert.Equal(t, 1, n, "the raises while disabled are delivered once, at enable")
	kernel.EnableIRQ(e, 8)
	assert.Contains(t, events(e, trace.Warn), "enable_irq: Unbalanced enable for IRQ 8")

	// IRQF_NO_AUTOEN: requested disabled.
	require.NoError(t, kernel.RequestIRQ(e, 9, func(int, any) kernel.IRQReturn { n++; return kernel.IRQHandled }, kernel.IRQFNoAutoEn, "late", nil))
	require.NoError(t, kernel.RaiseIRQ(e, 9))
	assert.Equal(t, 1, n)
	kernel.EnableIRQ(e, 9)
	assert.Equal(t, 2, n)

	// disable_irq may sleep: from the line's own handler it is reported
	// and does not wait for itself.
	require.NoError(t, kernel.RequestIRQ(e, 10, func(int, any) kernel.IRQReturn {
		kernel.DisableIRQ(e, 10)
		return kernel.IRQHandled
	}, 0, "self", nil))
	require.NoError(t, kernel.RaiseIRQ(e, 10))
	kept, total := e.Reports()
	require.Equal(t, 1, total)
	assert.Equal(t, "BUG: sleeping function called from invalid context at disable_irq", kept[0].Title)
	assert.Equal(t, 1, kernel.IRQStat(e, 10).Depth)
}

// free_irq waits for a handler running on another CPU (goroutine).
func TestFreeIRQWaitsForRunningHandler(t *testing.T) {
	e := env.New()
	started, release := make(chan struct{}), make(chan struct{})
	require.NoError(t, kernel.RequestIRQ(e, 12, func(int, any) kernel.IRQReturn {
		close(started)
		<-release
		return kernel.IRQHandled
	}, 0, "slow", nil))
	raised := make(chan struct{})
	go func() { _ = kernel.RaiseIRQ(e, 12); close(raised) }()
	<-started
	freed := make(chan string)
	go func() { freed <- kernel.FreeIRQ(e, 12, nil) }()
	for !strings.Contains(strings.Join(events(e, kernel.KindIRQ), "\n"), "free_irq: irq 12 slow") {
		time.Sleep(10 * time.Microsecond)
	}
	select {
	case <-freed:
		t.Fatal("free_irq returned while the handler ran")
	default:
	}
	close(release)
	assert.Equal(t, "slow", <-freed)
	<-raised
}

func TestIRQMisuse(t *testing.T) {
	e := env.New()
	require.NoError(t, kernel.RequestIRQ(e, 20, func(int, any) kernel.IRQReturn {
		kernel.FreeIRQ(e, 20, nil)
		return kernel.IRQWakeThread // without a thread function
	}, 0, "confused", nil))
	require.NoError(t, kernel.RequestIRQ(e, 21, func(int, any) kernel.IRQReturn { return 7 }, 0, "bogus", nil))
	require.NoError(t, kernel.RequestIRQ(e, 22, func(int, any) kernel.IRQReturn { panic("bad pointer") }, 0, "crash", nil))
	for _, irq := range []int{20, 21, 22} {
		require.NoError(t, kernel.RaiseIRQ(e, irq))
	}
	warns := events(e, trace.Warn)
	assert.Contains(t, warns, "free_irq: Trying to free IRQ 20 from IRQ context! (hardirq 20)")
	assert.Contains(t, warns, "handle_irq_event: irq 20 handler confused returned IRQ_WAKE_THREAD but no thread function available")
	assert.Contains(t, warns, "note_interrupt: irq event 21: bogus return value 7 (bogus)")
	kept, total := e.Reports()
	require.Equal(t, 2, total)
	assert.Equal(t, "BUG: sleeping function called from invalid context at free_irq", kept[0].Title)
	assert.Equal(t, "Oops: irq 22 handler panicked: bad pointer", kept[1].Title)
	assert.Equal(t, 1, kernel.IRQStat(e, 20).Handlers, "not freed from IRQ context")
	assert.Empty(t, e.Atomic())
	assert.Equal(t, "IRQ_WAKE_THREAD", kernel.IRQWakeThread.String())
	assert.Equal(t, "irqreturn(7)", kernel.IRQReturn(7).String())
}

// A line whose handlers never claim its interrupts is declared stuck and
// disabled after 99,900 of 100,000 (note_interrupt).
func TestNobodyCared(t *testing.T) {
	e := env.New()
	e.Log().SetLimit(100)
	require.NoError(t, kernel.RequestIRQ(e, 50, func(int, any) kernel.IRQReturn { return kernel.IRQNone }, 0, "deaf", nil))
	for range 99999 {
		require.NoError(t, kernel.RaiseIRQ(e, 50))
	}
	assert.Zero(t, kernel.IRQStat(e, 50).Depth)
	require.NoError(t, kernel.RaiseIRQ(e, 50))
	st := kernel.IRQStat(e, 50)
	assert.Equal(t, 1, st.Depth, "disabled")
	assert.Equal(t, uint64(100000), st.Unhandled)
	assert.Contains(t, events(e, trace.Warn), `note_interrupt: irq 50: nobody cared (try booting with the "irqpoll" option); handlers: [deaf]`)
	assert.Contains(t, events(e, kernel.KindIRQ), "note_interrupt: Disabling IRQ #50")
	require.NoError(t, kernel.RaiseIRQ(e, 50))
	assert.Equal(t, uint64(100000), kernel.IRQStat(e, 50).Unhandled, "no longer delivered")
}

// freeVsHandler: the hardware raises the interrupt while the driver's
// remove frees the handler and then the state the handler reads.
func freeVsHandler(freeFirst bool) func(s *sim.Sim) {
	return func(s *sim.Sim) {
		st := s.Alloc("adc_state")
		if err := kernel.RequestIRQ(s, 17, func(int, any) kernel.IRQReturn {
			kernel.CondResched(s, "handler middle")
			st.Access("read adc_state")
			return kernel.IRQHandled
		}, 0, "adc", nil); err != nil {
			panic(err)
		}
		s.Go("hw", func() { _ = kernel.RaiseIRQ(s, 17) })
		s.Go("remove", func() {
			if freeFirst {
				kernel.FreeIRQ(s, 17, nil)
				st.Free()
			} else {
				st.Free()
				kernel.FreeIRQ(s, 17, nil)
			}
		})
	}
}

func TestFreeIRQVsRunningHandlerExhaustive(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, freeVsHandler(true))
	require.False(t, res.Failed(), "%s", res)
	assert.True(t, res.Exhausted)
	assert.GreaterOrEqual(t, res.Schedules, 3)

	res = sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, freeVsHandler(false))
	require.True(t, res.Failed(), "%s", res)
	assert.Equal(t, sim.BugUseAfterFree, res.Failure.Failure.Kind)
	assert.Equal(t, "hardirq/17", res.Failure.Failure.Task)
}

func TestIRQTasksUnderSim(t *testing.T) {
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		var handled, threaded int
		if err := kernel.RequestThreadedIRQ(s, 33, func(int, any) kernel.IRQReturn {
			handled++
			return kernel.IRQWakeThread
		}, func(int, any) kernel.IRQReturn {
			kernel.Msleep(s, time.Millisecond)
			threaded++
			return kernel.IRQHandled
		}, 0, "codec", nil); err != nil {
			panic(err)
		}
		s.Go("hw", func() {
			for range 3 {
				_ = kernel.RaiseIRQ(s, 33)
			}
		})
		s.Go("driver", func() {
			kernel.Msleep(s, 10*time.Millisecond)
			kernel.SynchronizeIRQ(s, 33)
			if handled < 1 || threaded < 1 || handled > 3 {
				panic(fmt.Sprintf("handled %d threaded %d", handled, threaded))
			}
			kernel.FreeIRQ(s, 33, nil)
		})
	})
	require.False(t, r.Failed(), "%s", r)
	out := r.TraceText()
	assert.Contains(t, out, "[hardirq/33] handle_irq_event: irq 33 codec")
	assert.Contains(t, out, "[irq/33-codec] irq_thread_fn: irq 33 codec")
	assert.Contains(t, out, "[driver] free_irq: irq 33 codec")

	r = sim.Run(sim.Config{}, func(s *sim.Sim) {
		m := kernel.NewMutex(s, "reg_lock")
		if err := kernel.RequestIRQ(s, 2, func(int, any) kernel.IRQReturn { m.Lock(); m.Unlock(); return kernel.IRQHandled }, 0, "i2c", nil); err != nil {
			panic(err)
		}
		s.Go("hw", func() { _ = kernel.RaiseIRQ(s, 2) })
	})
	require.True(t, r.Failed())
	assert.Equal(t, "BUG: sleeping function called from invalid context at mutex_lock reg_lock", r.Failure.Title)
	assert.Equal(t, "hardirq/2", r.Failure.Task)
}

func TestIRQRequestFaultInjection(t *testing.T) {
	r := sim.Run(sim.Config{Faults: []sim.FaultRule{{Point: kernel.FaultRequestIRQ, Nth: 1}}}, func(s *sim.Sim) {
		h := func(int, any) kernel.IRQReturn { return kernel.IRQHandled }
		assert.ErrorIs(t, kernel.RequestIRQ(s, 4, h, 0, "x", nil), device.ErrNoMemory)
		assert.NoError(t, kernel.RequestIRQ(s, 4, h, 0, "x", nil))
	})
	require.False(t, r.Failed(), "%s", r)
}

// A raise while the handler runs (here: from the handler itself) is kept
// pending and delivered once the handler returns, as an edge interrupt
// latches.
func TestIRQRaisedWhileInProgressRunsAgain(t *testing.T) {
	e := env.New()
	n := 0
	require.NoError(t, kernel.RequestIRQ(e, 11, func(irq int, _ any) kernel.IRQReturn {
		if n++; n == 1 {
			require.NoError(t, kernel.RaiseIRQ(e, irq))
			require.NoError(t, kernel.RaiseIRQ(e, irq))
		}
		return kernel.IRQHandled
	}, 0, "edge", nil))
	require.NoError(t, kernel.RaiseIRQ(e, 11))
	assert.Equal(t, 2, n, "two raises meanwhile: one more run")
	assert.Equal(t, uint64(3), kernel.IRQStat(e, 11).Count)
	assert.Contains(t, events(e, kernel.KindIRQ), "handle_edge_irq: irq 11 in progress: pending")
}

// An interrupt thread waiting for itself is reported instead of hanging.
func TestIRQThreadWaitingForItself(t *testing.T) {
	e := env.New()
	defer e.Close()
	done := make(chan struct{})
	require.NoError(t, kernel.RequestThreadedIRQ(e, 60, nil, func(irq int, _ any) kernel.IRQReturn {
		kernel.SynchronizeIRQ(e, irq)
		kernel.DisableIRQ(e, irq)
		kernel.FreeIRQ(e, irq, nil)
		close(done)
		return kernel.IRQHandled
	}, kernel.IRQFOneshot, "selfish", nil))
	require.NoError(t, kernel.RaiseIRQ(e, 60))
	<-done
	kernel.SynchronizeIRQ(e, 60)
	kept, total := e.Reports()
	require.Equal(t, 3, total)
	assert.Equal(t, "INFO: task <setup> blocked: synchronize_irq from the interrupt's own thread", kept[0].Title)
	assert.Equal(t, env.BugDeadlock, kept[0].Kind)
	assert.Equal(t, "INFO: task <setup> blocked: disable_irq from the interrupt's own thread", kept[1].Title)
	assert.Equal(t, "INFO: task <setup> blocked: free_irq from the interrupt's own thread", kept[2].Title)
	assert.Zero(t, kernel.IRQStat(e, 60).Handlers)
}

// Close waits for interrupt threads, and the machine takes no interrupt
// afterwards.
func TestCloseWaitsForIRQThreads(t *testing.T) {
	e := env.New()
	release := make(chan struct{})
	var ran atomic.Bool
	require.NoError(t, kernel.RequestThreadedIRQ(e, 61, nil, func(int, any) kernel.IRQReturn {
		<-release
		ran.Store(true)
		return kernel.IRQHandled
	}, kernel.IRQFOneshot, "slow", nil))
	require.NoError(t, kernel.RaiseIRQ(e, 61))
	closed := make(chan struct{})
	go func() { e.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while an interrupt thread ran")
	case <-time.After(time.Millisecond):
	}
	close(release)
	<-closed
	assert.True(t, ran.Load())
	require.NoError(t, kernel.RaiseIRQ(e, 61))
	assert.Contains(t, events(e, trace.Warn), "generic_handle_irq: irq 61 raised after the machine shut down: dropped")
	assert.Equal(t, uint64(1), kernel.IRQStat(e, 61).Count)
}

// Under the simulator a line enabled again delivers the interrupt raised
// meanwhile as a new hardirq task, and an interrupt raised before the
// handler task starts, on a line freed meanwhile, is spurious.
func TestIRQReplayAndSpuriousUnderSim(t *testing.T) {
	r := sim.Run(sim.Config{Mode: sim.Exhaustive}, func(s *sim.Sim) { // no preemption
		n := 0
		if err := kernel.RequestIRQ(s, 7, func(int, any) kernel.IRQReturn { n++; return kernel.IRQHandled }, 0, "btn", nil); err != nil {
			panic(err)
		}
		s.Go("driver", func() {
			kernel.DisableIRQ(s, 7)
			_ = kernel.RaiseIRQ(s, 7)
			kernel.EnableIRQ(s, 7)
			kernel.Msleep(s, time.Millisecond)
			if n != 1 {
				panic(fmt.Sprintf("handled %d times", n))
			}
			_ = kernel.RaiseIRQ(s, 7) // its task starts after the free below
			kernel.FreeIRQ(s, 7, nil)
		})
	})
	require.False(t, r.Failed(), "%s", r)
	out := r.TraceText()
	assert.Contains(t, out, "[driver] check_irq_resend: irq 7: delivering the interrupt raised while disabled")
	assert.Contains(t, out, "[hardirq/7] handle_irq_event: irq 7 btn")
	assert.Contains(t, out, "[hardirq/7#2] handle_bad_irq: irq 7: no handler, spurious interrupt")
}
