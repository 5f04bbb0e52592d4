package srcu

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/internal/raceexit"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// syncAsync runs d.Synchronize in a goroutine and returns a channel closed
// when it returns.
func syncAsync(d *Domain) chan struct{} {
	done := make(chan struct{})
	go func() {
		d.Synchronize()
		close(done)
	}()
	return done
}

func requireBlocked(t *testing.T, d *Domain, done chan struct{}) {
	t.Helper()
	require.Eventually(t, d.writerWaiting.Load, 5*time.Second, time.Millisecond, "writer never waited")
	select {
	case <-done:
		t.Fatal("Synchronize returned while a reader was inside")
	default:
	}
}

func requireDone(t *testing.T, done chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Synchronize did not return")
	}
}

func TestSynchronizeNoReaders(t *testing.T) {
	d := New(plain(), "d")
	s := d.NewSlot()
	defer s.Close()
	d.Synchronize()
	d.Synchronize()
	assert.Equal(t, uint64(2), d.GracePeriods())
	assert.Equal(t, 0, d.Index())
}

func TestGracePeriodWaitsForReader(t *testing.T) {
	d := New(plain(), "d")
	s := d.NewSlot()
	defer s.Close()
	g := s.Lock()
	assert.Equal(t, 1, d.Readers())
	done := syncAsync(d)
	requireBlocked(t, d, done)
	g.Unlock()
	requireDone(t, done)
	assert.Equal(t, 0, d.Readers())
	assert.False(t, d.writerWaiting.Load())
}

func TestReadersAfterFlipDoNotBlock(t *testing.T) {
	d := New(plain(), "d")
	a, b := d.NewSlot(), d.NewSlot()
	defer a.Close()
	defer b.Close()
	ga := a.Lock()
	require.Equal(t, 0, ga.Index())
	done := syncAsync(d)
	requireBlocked(t, d, done)
	// The writer has flipped: a new reader counts on the other index.
	gb := b.Lock()
	assert.Equal(t, 1, gb.Index())
	ga.Unlock()
	requireDone(t, done)
	assert.Equal(t, 1, d.Readers(), "the late reader is still inside")
	gb.Unlock()
}

// A reader that loaded the index before the previous flip but incremented
// only after it counts on what is now the current index; step (1) of
// Synchronize must wait for it.
func TestStragglerOfPreviousEpoch(t *testing.T) {
	d := New(plain(), "d")
	s := d.NewSlot()
	defer s.Close()
	d.Synchronize() // cur index is now 1
	require.Equal(t, 1, d.Index())
	straggler := Guard{s: s, v: 0} // loaded index 0 long ago
	s.cnt[0].Add(1)
	done := syncAsync(d)
	requireBlocked(t, d, done)
	straggler.Unlock()
	requireDone(t, done)
}

func TestSumAcrossSlots(t *testing.T) {
	d := New(plain(), "d")
	slots := []*Slot{d.NewSlot(), d.NewSlot(), d.NewSlot()}
	assert.Equal(t, 3, d.Slots())
	g0 := slots[0].Lock()
	g2 := slots[2].Lock()
	g2b := slots[2].Lock()
	assert.Equal(t, 3, d.Readers())
	assert.Equal(t, int64(3), d.sum(0))
	assert.Equal(t, 2, slots[2].Readers())
	done := syncAsync(d)
	requireBlocked(t, d, done)
	g0.Unlock()
	g2.Unlock()
	requireBlocked(t, d, done)
	g2b.Unlock()
	requireDone(t, done)
	for _, s := range slots {
		assert.False(t, s.Close())
	}
	assert.Equal(t, 0, d.Slots())
}

func TestSlotPadding(t *testing.T) {
	d := New(plain(), "d")
	s := d.NewSlot()
	defer s.Close()
	assert.Equal(t, uintptr(128), unsafe.Sizeof(*s))
	assert.Zero(t, uintptr(unsafe.Pointer(s))%64, "slot starts on a cache line")
}

func TestUnbalancedUnlockPanics(t *testing.T) {
	d := New(plain(), "d")
	s := d.NewSlot()
	defer s.Close()
	g := s.Lock()
	g.Unlock()
	require.PanicsWithValue(t,
		`srcu: unbalanced srcu_read_unlock on domain "d" (index 0): counter would go negative (double unlock?)`,
		g.Unlock)
	assert.Equal(t, 0, d.Readers(), "counter restored")
	require.PanicsWithValue(t,
		"srcu: srcu_read_unlock of a zero Guard (unlock without a matching lock)",
		Guard{}.Unlock)
	assert.True(t, Guard{}.Zero())
	d.Synchronize() // still balanced
}

func TestClosedSlot(t *testing.T) {
	d := New(plain(), "d")
	s := d.NewSlot()
	assert.False(t, s.Close())
	assert.True(t, s.Closed())
	assert.False(t, s.Close(), "second close is a no-op")
	require.PanicsWithValue(t, `srcu: srcu_read_lock on a closed slot of domain "d"`, func() { s.Lock() })
	_, ok := s.TryLock()
	assert.False(t, ok)
	assert.Equal(t, 0, d.Readers())
	assert.Equal(t, s.Domain(), d)
}

func TestCloseWhileBusyKeepsCounting(t *testing.T) {
	d := New(plain(), "d")
	s := d.NewSlot()
	g := s.Lock()
	assert.True(t, s.Close())
	assert.Equal(t, 1, d.Slots(), "still registered")
	done := syncAsync(d)
	requireBlocked(t, d, done)
	g.Unlock()
	requireDone(t, done)
	d.Synchronize() // reaps the idle closed slot
	assert.Equal(t, 0, d.Slots())
}

// Many goroutines, each on its own slot, read a pointer a writer keeps
// replacing; after each Synchronize the writer poisons the old value. No
// reader may ever see a poisoned value.
func TestStressPoison(t *testing.T) {
	type box struct{ poisoned atomic.Bool }
	d := New(plain(), "d")
	var cur atomic.Pointer[box]
	cur.Store(&box{})
	var stop atomic.Bool
	var bad atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		s := d.NewSlot()
		wg.Go(func() {
			defer s.Close()
			for n := 0; !stop.Load(); n++ {
				if n%64 == 0 {
					runtime.Gosched() // let the woken writer run on 2 CPUs
				}
				g := s.Lock()
				b := cur.Load()
				for range 10 {
					if b.poisoned.Load() {
						bad.Add(1)
					}
				}
				g.Unlock()
			}
		})
	}
	for range 300 {
		old := cur.Swap(&box{})
		d.Synchronize()
		old.poisoned.Store(true)
	}
	stop.Store(true)
	wg.Wait()
	assert.Zero(t, bad.Load())
	assert.Equal(t, uint64(300), d.GracePeriods())
}

// Readers sharing one slot from many goroutines stay balanced because each
// Guard carries its index.
func TestSharedSlot(t *testing.T) {
	d := New(plain(), "d")
	s := d.NewSlot()
	defer s.Close()
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for !stop.Load() {
				g := s.Lock()
				runtime.Gosched()
				g.Unlock()
			}
		})
	}
	for range 200 {
		d.Synchronize()
	}
	stop.Store(true)
	wg.Wait()
	assert.Equal(t, 0, d.Readers())
}

type fakeSched struct {
	mu     sync.Mutex
	points []string
	waits  []string
}

func (f *fakeSched) Yield(p sched.Point) {
	f.mu.Lock()
	f.points = append(f.points, p.String())
	f.mu.Unlock()
}

func (f *fakeSched) Block(w sched.Wait, ready func() bool) {
	f.mu.Lock()
	f.waits = append(f.waits, w.What)
	f.mu.Unlock()
	for !ready() {
		runtime.Gosched()
	}
}

func (f *fakeSched) Fault(string) error { return nil }
func (f *fakeSched) Current() string    { return "" }

func TestSchedulerSeamAndTrace(t *testing.T) {
	fs := &fakeSched{}
	log := trace.NewLog()
	d := New(env.New(env.WithLog(log), env.WithScheduler(fs)), "prov")
	assert.Equal(t, "prov", d.Name())
	s := d.NewSlot()
	defer s.Close()
	g := s.Lock()
	done := make(chan struct{})
	go func() {
		d.Synchronize()
		close(done)
	}()
	require.Eventually(t, func() bool {
		fs.mu.Lock()
		defer fs.mu.Unlock()
		return len(fs.waits) > 0
	}, 5*time.Second, time.Millisecond)
	g.Unlock()
	requireDone(t, done)
	assert.Equal(t, []string{"srcu_read_lock prov", "srcu_read_unlock prov"}, fs.points)
	assert.Equal(t, []string{"synchronize_srcu prov"}, fs.waits)
	assert.Equal(t, []string{
		"synchronize_srcu prov: grace period 1 start",
		"synchronize_srcu prov: grace period 1 done",
	}, trace.Shorts(log.Events()))
	for _, e := range log.Events() {
		assert.Equal(t, trace.SRCU, e.Kind)
	}
}

func TestSchedulerSerialisesWriters(t *testing.T) {
	fs := &fakeSched{}
	d := New(env.New(env.WithScheduler(fs)), "w")
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				d.Synchronize()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, uint64(200), d.GracePeriods())
}

func TestLockdepSynchronizeInsideOwnSection(t *testing.T) {
	d := New(env.New(), "ld")
	s := d.NewSlot()
	defer s.Close()
	g := s.Lock()
	n, who := d.HeldBy()
	assert.Equal(t, 1, n)
	assert.Equal(t, env.New().Holder().String(), who)
	require.PanicsWithValue(t,
		fmt.Sprintf(`srcu: synchronize_srcu on domain "ld" inside a read section of the same domain (%s holds 1) would deadlock`, who),
		d.Synchronize)
	// another goroutine holding a section is waited for, not reported
	other := make(chan Guard)
	go func() { other <- s.Lock() }()
	g2 := <-other
	g.Unlock()
	n, _ = d.HeldBy()
	assert.Equal(t, 0, n)
	done := syncAsync(d)
	requireBlocked(t, d, done)
	g2.Unlock()
	requireDone(t, done)
}

func TestHeldByWithoutLockdep(t *testing.T) {
	d := New(plain(), "plain")
	n, who := d.HeldBy()
	assert.Zero(t, n)
	assert.Empty(t, who)
}

func BenchmarkLockUnlock(b *testing.B) {
	d := New(plain(), "b")
	b.RunParallel(func(pb *testing.PB) {
		s := d.NewSlot()
		defer s.Close()
		for pb.Next() {
			s.Lock().Unlock()
		}
	})
}

func BenchmarkSynchronizeIdle(b *testing.B) {
	d := New(plain(), "b")
	s := d.NewSlot()
	defer s.Close()
	for b.Loop() {
		d.Synchronize()
	}
}

// A reader nests a second section while a grace period waits for its
// first one: the inner section counts on the new index, so the grace
// period neither waits for it nor ends before the outer section does (the
// kernel's nested srcu_read_lock, each unlock given its own index).
func TestNestedReaderAcrossFlip(t *testing.T) {
	d := New(plain(), "d")
	s := d.NewSlot()
	defer s.Close()
	outer := s.Lock()
	require.Equal(t, 0, outer.Index())
	done := syncAsync(d)
	requireBlocked(t, d, done)
	inner := s.Lock()
	assert.Equal(t, 1, inner.Index(), "the nested section counts on the new epoch")
	inner.Unlock()
	requireBlocked(t, d, done)
	outer.Unlock()
	requireDone(t, done)
	assert.Equal(t, 0, d.Readers())
}

// plain is an environment without lockdep: the domain's fast paths.
func plain() *env.Env { return env.New(env.WithLockdep(false)) }
