package srcu

import (
	"runtime"
	"sync"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A shared slot stands for a power-of-two number of per-CPU slots
// covering every P, each registered with the domain; the shared slot
// itself counts nothing.
func TestSharedSlotPerCPU(t *testing.T) {
	assert.Equal(t, uintptr(128), unsafe.Sizeof(Slot{}))
	d := New(plain(), "d")
	s := d.NewSharedSlot()
	n := len(s.pc.slots)
	assert.GreaterOrEqual(t, n, min(runtime.GOMAXPROCS(0), maxPerCPUSlots))
	assert.LessOrEqual(t, n, maxPerCPUSlots)
	assert.Zero(t, n&(n-1), "a power of two")
	assert.Equal(t, n, d.Slots())
	assert.Same(t, d, s.Domain())
	assert.False(t, s.Close())
	assert.True(t, s.Closed())
	assert.Equal(t, 0, d.Slots())
}

// A reader locks the per-CPU slot of the P it runs on, and its guard
// unlocks that slot.
func TestSharedSlotLocksItsPSlot(t *testing.T) {
	d := New(plain(), "d")
	s := d.NewSharedSlot()
	defer s.Close()
	p := procPin() // no preemption: the lock runs on this P
	g := s.Lock()
	procUnpin()
	assert.Same(t, &s.pc.slots[p&s.pc.mask], g.s)
	assert.Equal(t, 1, s.Readers())
	assert.Equal(t, 1, d.Readers())
	assert.Zero(t, s.cnt[0].Load()+s.cnt[1].Load(), "the shared slot counts nothing itself")
	g.Unlock()
	assert.Equal(t, 0, s.Readers())
	g, ok := s.TryLock()
	require.True(t, ok)
	inSet := false
	for i := range s.pc.slots {
		inSet = inSet || g.s == &s.pc.slots[i]
	}
	assert.True(t, inSet, "TryLock counts on one of the per-CPU slots")
	g.Unlock()
}

// Synchronize waits for a reader on a shared slot.
func TestSharedSlotGracePeriodWaitsForReader(t *testing.T) {
	d := New(plain(), "d")
	s := d.NewSharedSlot()
	defer s.Close()
	g := s.Lock()
	done := syncAsync(d)
	requireBlocked(t, d, done)
	g.Unlock()
	requireDone(t, done)
	assert.Equal(t, uint64(1), d.GracePeriods())
}

// Many goroutines share one slot while a writer runs grace periods: a
// value retired after a grace period is never seen by a reader still
// inside, and every section ends balanced.
func TestSharedSlotStress(t *testing.T) {
	d := New(plain(), "d")
	s := d.NewSharedSlot()
	defer s.Close()
	var mu sync.Mutex
	published := new(int)
	*published = 1
	load := func() *int { mu.Lock(); defer mu.Unlock(); return published }
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var bad sync.Once
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				g := s.Lock()
				p := load()
				runtime.Gosched()
				mu.Lock()
				v := *p
				mu.Unlock()
				if v != 1 {
					bad.Do(func() { t.Error("a reader inside its section saw its value retired") })
				}
				g.Unlock()
			}
		})
	}
	for range 50 {
		mu.Lock()
		old := published
		published = new(int)
		*published = 1
		mu.Unlock()
		d.Synchronize()
		mu.Lock()
		*old = 0 // retired: no reader that loaded it is inside any more
		mu.Unlock()
	}
	close(stop)
	wg.Wait()
	assert.Equal(t, 0, d.Readers())
}

// A closed shared slot refuses new readers on every P; one still inside
// when it closes keeps being counted.
func TestSharedSlotClosed(t *testing.T) {
	d := New(plain(), "d")
	s := d.NewSharedSlot()
	s.SetClosedPanic("closed handle")
	g := s.Lock()
	assert.True(t, s.Close(), "a reader was inside")
	assert.False(t, s.Close(), "closing twice")
	assert.PanicsWithValue(t, "closed handle", func() { s.Lock() })
	_, ok := s.TryLock()
	assert.False(t, ok)
	done := syncAsync(d)
	requireBlocked(t, d, done)
	g.Unlock()
	requireDone(t, done)
	d.Synchronize() // reaps the closed slots
	require.Equal(t, 0, d.Slots())
}

// BenchmarkSharedSlotLockUnlock: every goroutine on one shared slot
// (per-CPU counters).
func BenchmarkSharedSlotLockUnlock(b *testing.B) {
	d := New(plain(), "b")
	s := d.NewSharedSlot()
	defer s.Close()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Lock().Unlock()
		}
	})
}

// BenchmarkSlotLockUnlockShared: every goroutine on one slot from NewSlot
// (one counter line).
func BenchmarkSlotLockUnlockShared(b *testing.B) {
	d := New(plain(), "b")
	s := d.NewSlot()
	defer s.Close()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			s.Lock().Unlock()
		}
	})
}
