//lint:file-ignore SA2001 the tests take locks with empty critical sections on purpose: the lock itself is under test

package kernel_test

import (
	"sync"
	"testing"
	"time"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/revocable/srcu"
	"github.com/drvsim/drvsim/sim"
	"github.com/drvsim/drvsim/trace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSpinLockExcludesPlainGoroutines(t *testing.T) {
	e := env.New()
	l := kernel.NewSpinLock(e, "counter_lock")
	n := 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 200 {
				l.Lock()
				n++
				l.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1600, n)
	assert.False(t, l.IsLocked())
	assert.Empty(t, e.Atomic(), "unlocking leaves atomic context")
	_, total := e.Reports()
	assert.Zero(t, total)
}

// Holding a spinlock is atomic context: every sleeping primitive reports
// the kernel's BUG, naming what made the task atomic.
func TestSleepingUnderSpinLockIsABug(t *testing.T) {
	e := env.New()
	l := kernel.NewSpinLock(e, "hcd_lock")
	m := kernel.NewMutex(e, "io_mutex")
	l.Lock()
	assert.Equal(t, []string{"spinlock hcd_lock"}, e.Atomic())
	m.Lock()
	m.Unlock()
	kernel.Msleep(e, time.Millisecond)
	l.Unlock()
	kernel.Msleep(e, time.Millisecond) // fine again

	flags := l.LockIRQSave()
	assert.Equal(t, []string{"irqs off", "spinlock hcd_lock"}, e.Atomic())
	kernel.NewWaitQueue(e, "q").Wait("never", func() bool { return true }) // ready at once: no sleep
	kernel.Msleep(e, time.Millisecond)
	l.UnlockIRQRestore(flags)
	assert.Empty(t, e.Atomic())

	kept, total := e.Reports()
	require.Equal(t, 3, total)
	assert.Equal(t, "BUG: sleeping function called from invalid context at mutex_lock io_mutex", kept[0].Title)
	assert.Contains(t, kept[0].Details, "atomic because of: spinlock hcd_lock\n")
	assert.Equal(t, "BUG: sleeping function called from invalid context at msleep", kept[1].Title)
	assert.Contains(t, kept[2].Details, "atomic because of: irqs off, spinlock hcd_lock\n")
}

func TestSpinLockLockdepRecursionAndBadUnlock(t *testing.T) {
	e := env.New()
	l := kernel.NewSpinLock(e, "l")
	l.Unlock() // not held
	l.Lock()
	assert.False(t, l.TryLock(), "trylock on a held lock fails, even for its holder")
	assert.PanicsWithValue(t, "kernel: possible recursive locking: "+e.Holder().String()+" already holds spinlock l", l.Lock)
	assert.Equal(t, e.Holder().String(), l.Holder())
	l.Unlock()
	assert.True(t, l.TryLock())
	l.Unlock()
	assert.Empty(t, e.Atomic())
	kept, total := e.Reports()
	require.Equal(t, 2, total)
	assert.Equal(t, "WARNING: bad unlock balance detected", kept[0].Title)
	assert.Contains(t, kept[0].Details, "release spinlock l (spin_unlock), held by nobody")
	assert.Equal(t, "WARNING: possible recursive locking detected", kept[1].Title)
	assert.Contains(t, kept[1].Details, "already holds it")
}

func TestSpinLockUnlockedByAnotherTask(t *testing.T) {
	e := env.New()
	l := kernel.NewSpinLock(e, "l")
	l.Lock()
	done := make(chan struct{})
	go func() { l.Unlock(); close(done) }()
	<-done
	assert.False(t, l.IsLocked(), "released anyway")
	kept, _ := e.Reports()
	require.Len(t, kept, 1)
	assert.Contains(t, kept[0].Details, "held by "+e.Holder().String())
	e.ExitAtomic() // the holder's Lock left it atomic; nothing else can
}

// Lockdep's irq-safety check: a lock an interrupt handler takes must be
// taken with interrupts off everywhere else.
func TestSpinLockInconsistentLockState(t *testing.T) {
	e := env.New()
	l := kernel.NewSpinLock(e, "stat_lock")
	require.NoError(t, kernel.RequestIRQ(e, 9, func(int, any) kernel.IRQReturn {
		l.Lock()
		l.Unlock()
		return kernel.IRQHandled
	}, 0, "sensor", nil))
	flags := l.LockIRQSave() // the right way: no report
	l.UnlockIRQRestore(flags)
	require.NoError(t, kernel.RaiseIRQ(e, 9))
	_, total := e.Reports()
	require.Zero(t, total)

	l.Lock() // interrupts on: the handler could spin on us
	l.Unlock()
	kept, total := e.Reports()
	require.Equal(t, 1, total)
	assert.Equal(t, "WARNING: inconsistent lock state", kept[0].Title)
	assert.Contains(t, kept[0].Details, "inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage.")
	assert.Contains(t, kept[0].Details, "(hardirq 9)")
	assert.Contains(t, kept[0].Details, "spin_lock_irqsave")
	l.Lock() // reported once per lock
	l.Unlock()
	_, total = e.Reports()
	assert.Equal(t, 1, total)

	// A lock a timer callback takes needs spin_lock_bh in process context.
	t2 := kernel.NewSpinLock(e, "list_lock")
	tm := kernel.NewTimer(e, "poll", func(*kernel.Timer) { t2.Lock(); t2.Unlock() })
	t2.LockBH()
	t2.UnlockBH()
	tm.Mod(e.Now() + time.Millisecond)
	e.Advance(time.Millisecond)
	_, total = e.Reports()
	require.Equal(t, 1, total, "bh off in process context is consistent with softirq use")
	t2.Lock()
	t2.Unlock()
	kept, total = e.Reports()
	require.Equal(t, 2, total)
	assert.Contains(t, kept[1].Details, "inconsistent {IN-SOFTIRQ-W} -> {SOFTIRQ-ON-W} usage.")
	assert.Contains(t, kept[1].Details, "spin_lock_bh")
}

func TestSpinLockTraces(t *testing.T) {
	e := env.New()
	l := kernel.NewSpinLock(e, "l")
	f := l.LockIRQSave()
	l.UnlockIRQRestore(f)
	l.LockBH()
	l.UnlockBH()
	var got []string
	for _, ev := range trace.Filter(e.Log().Events(), trace.OfKind(trace.Lock)) {
		got = append(got, ev.Short())
	}
	assert.Equal(t, []string{"spin_lock_irqsave: l", "spin_unlock_irqrestore: l", "spin_lock_bh: l", "spin_unlock_bh: l"}, got)
}

// Under the simulator a contended spinlock waits through the scheduler:
// every interleaving of two incrementers is explored, none loses an
// update.
func TestSpinLockUnderSimExhaustive(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, func(s *sim.Sim) {
		l := kernel.NewSpinLock(s, "l")
		n := 0
		for _, name := range []string{"a", "b"} {
			s.Go(name, func() {
				l.Lock()
				v := n
				s.CondResched("inside")
				n = v + 1
				l.Unlock()
			})
		}
		s.AddLeakCheck("count", func() []string {
			if n != 2 {
				return []string{"lost update"}
			}
			return nil
		})
	})
	require.False(t, res.Failed(), "%s", res)
	assert.True(t, res.Exhausted)
	assert.Greater(t, res.Schedules, 2)
}

func TestSpinLockABBADeadlockUnderSim(t *testing.T) {
	res := sim.Explore(sim.ExploreConfig{Mode: sim.Exhaustive}, func(s *sim.Sim) {
		a, b := kernel.NewSpinLock(s, "A"), kernel.NewSpinLock(s, "B")
		s.Go("t1", func() { a.Lock(); b.Lock(); b.Unlock(); a.Unlock() })
		s.Go("t2", func() { b.Lock(); a.Lock(); a.Unlock(); b.Unlock() })
	})
	require.True(t, res.Failed())
	assert.Equal(t, sim.BugDeadlock, res.Failure.Failure.Kind)
	assert.Contains(t, res.Failure.Failure.Details, "blocked on spinlock A, held by t1")
	assert.Contains(t, res.Failure.Failure.Details, "blocked on spinlock B, held by t2")
}

func TestSpinLockHolderSleepsUnderSim(t *testing.T) {
	r := sim.Run(sim.Config{}, func(s *sim.Sim) {
		l := kernel.NewSpinLock(s, "dev_lock")
		s.Go("t", func() {
			l.Lock()
			kernel.Msleep(s, time.Millisecond)
			l.Unlock()
		})
	})
	require.True(t, r.Failed())
	assert.Equal(t, sim.BugLockdep, r.Failure.Kind)
	assert.Equal(t, "BUG: sleeping function called from invalid context at msleep", r.Failure.Title)
	assert.Contains(t, r.Failure.Details, "atomic because of: spinlock dev_lock")

	r = sim.Run(sim.Config{}, func(s *sim.Sim) {
		l := kernel.NewSpinLock(s, "dev_lock")
		s.Go("t", func() { l.Lock(); l.Lock() })
	})
	require.True(t, r.Failed())
	assert.Equal(t, "WARNING: possible recursive locking detected", r.Failure.Title)
}

// The sleeping primitives outside this package check might_sleep too: a
// device lock and an SRCU grace period under a spinlock are the same BUG.
func TestDeviceLockAndSynchronizeSRCUUnderSpinLock(t *testing.T) {
	sys := drvsim.NewSystem()
	defer sys.Close()
	dev := sys.NewPlatformDevice("uart")
	require.NoError(t, sys.RegisterDevice(dev))
	d := srcu.New(sys, "uart_srcu")
	l := kernel.NewSpinLock(sys, "port_lock")
	l.Lock()
	require.NoError(t, dev.Lock())
	require.NoError(t, dev.Unlock())
	d.Synchronize()
	l.Unlock()
	kept, total := sys.Env().Reports()
	require.Equal(t, 2, total)
	assert.Equal(t, "BUG: sleeping function called from invalid context at device_lock /sys/devices/platform/uart", kept[0].Title)
	assert.Equal(t, "BUG: sleeping function called from invalid context at synchronize_srcu uart_srcu", kept[1].Title)
	assert.Contains(t, kept[1].Details, "atomic because of: spinlock port_lock")
}
