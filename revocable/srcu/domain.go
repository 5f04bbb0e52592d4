package srcu

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Domain is one SRCU domain, the kernel's struct srcu_struct (set up by
// init_srcu_struct). Create domains with New; the zero value is not usable.
// A Domain is safe for concurrent use.
type Domain struct {
	_ [64]byte // keep the read-mostly fields off the previous object's line

	// Read-mostly: loaded by every reader, stored only by writers.
	cur    atomic.Uint32 // epoch counter; the index is cur&1
	slowAt int64         // a lock whose new count reaches this takes lockSlow
	// slowUnlock sends every unlock to unlockSlow: a writer is waiting for
	// readers to drain, or (permanently) a scheduler or lockdep wants to
	// see every unlock.
	slowUnlock atomic.Bool

	_ [64]byte // keep writer-side fields off the readers' line

	writerWaiting atomic.Bool   // a Synchronize waits on wake
	wake          chan struct{} // 1-buffered; unlock sends when writerWaiting

	mu   sync.Mutex  // serialises Synchronize (no scheduler)
	busy atomic.Bool // serialises Synchronize (under a scheduler)

	regMu sync.Mutex // guards slots, reap
	slots []*Slot
	reap  bool // a closed slot still had readers when it was closed

	name string
	e    *env.Env
	log  *trace.Log
	sch  sched.Scheduler
	ld   *lockdep // nil unless the environment has lockdep on
	gp   atomic.Uint64
}

// New returns a domain named name (used in traces, panics and the Wait a
// scheduler reports), init_srcu_struct, in h's environment: it traces
// grace periods into the environment's log; under a simulator read lock,
// read unlock and the grace-period wait are schedule points; with lockdep
// on, every read section records its holder, so that Synchronize from
// inside one's own read section panics instead of deadlocking (read lock
// and unlock then take a slow path of some tens of nanoseconds).
func New(h env.Host, name string) *Domain {
	e := env.Of(h)
	d := &Domain{name: name, e: e, log: e.Log(), sch: e.Scheduler(), wake: make(chan struct{}, 1), slowAt: closedBias / 2}
	if e.Lockdep() {
		d.ld = &lockdep{e: e}
	}
	if d.sch != nil || d.ld != nil {
		d.slowAt = 0 // every lock takes the slow path
		d.slowUnlock.Store(true)
	}
	return d
}

// Name returns the name the domain was created with.
func (d *Domain) Name() string { return d.name }

// NewSlot registers a new reader slot with the domain, the counterpart of
// one CPU's struct srcu_data. Each consumer owns one; readers on different
// slots never write a shared cache line. Close it when done.
func (d *Domain) NewSlot() *Slot {
	s := &Slot{d: d}
	d.regMu.Lock()
	s.i = len(d.slots)
	d.slots = append(d.slots, s)
	d.regMu.Unlock()
	return s
}

// removeLocked unregisters s; d.regMu must be held.
func (d *Domain) removeLocked(s *Slot) {
	last := len(d.slots) - 1
	d.slots[s.i] = d.slots[last]
	d.slots[s.i].i = s.i
	d.slots[last] = nil
	d.slots = d.slots[:last]
	s.i = -1
}

// Slots returns the number of registered slots (closed slots whose readers
// have not all left yet included).
func (d *Domain) Slots() int {
	d.regMu.Lock()
	defer d.regMu.Unlock()
	return len(d.slots)
}

// sum adds up the counters for index idx over every registered slot.
func (d *Domain) sum(idx uint32) int64 {
	d.regMu.Lock()
	var n int64
	for _, s := range d.slots {
		n += count(s.cnt[idx].Load())
	}
	d.regMu.Unlock()
	return n
}

// Readers returns the number of read sections currently open in the
// domain, over both epochs. cleanup_srcu_struct warns when it is not zero.
func (d *Domain) Readers() int {
	return int(d.sum(0) + d.sum(1))
}

// Index returns the current epoch index, 0 or 1 (what srcu_read_lock would
// return now).
func (d *Domain) Index() int { return int(d.cur.Load() & 1) }

// GracePeriods returns how many grace periods have completed.
func (d *Domain) GracePeriods() uint64 { return d.gp.Load() }

// HeldBy reports how many read sections of the domain the calling task
// holds, and who that caller is, e.g. "goroutine 0xc000007c00" or "unbind".
// It needs lockdep (on in the domain's environment); without it it reports
// 0 and "".
func (d *Domain) HeldBy() (n int, who string) {
	if d.ld == nil {
		return 0, ""
	}
	return d.ld.heldBy()
}

// Synchronize waits until every read section that was open when it was
// called has closed: synchronize_srcu. Read sections opened meanwhile do not
// delay it. Calls are serialised. Calling it from inside a read section of
// the same domain deadlocks, as in the kernel; with lockdep on it panics
// instead.
func (d *Domain) Synchronize() {
	if n, who := d.HeldBy(); n > 0 {
		panic(fmt.Sprintf("srcu: synchronize_srcu on domain %q inside a read section of the same domain (%s holds %d) would deadlock", d.name, who, n))
	}
	d.e.MightSleep("synchronize_srcu " + d.name)
	d.lockWriter()
	defer d.unlockWriter()
	gp := d.gp.Load() + 1
	d.emit(fmt.Sprintf("grace period %d start", gp))
	d.reapClosed()
	cur := d.cur.Load()
	d.waitZero((cur + 1) & 1) // (1) stragglers of the previous epoch
	d.cur.Store(cur + 1)      // (2) flip
	d.waitZero(cur & 1)       // (3) readers of the old epoch
	d.gp.Store(gp)
	d.emit(fmt.Sprintf("grace period %d done", gp))
}

func (d *Domain) emit(msg string) {
	if d.log != nil {
		d.log.Emit(trace.Event{Kind: trace.SRCU, Dev: d.name, Func: "synchronize_srcu", Msg: msg})
	}
}

// reapClosed unregisters closed slots whose readers have all left.
func (d *Domain) reapClosed() {
	d.regMu.Lock()
	defer d.regMu.Unlock()
	if !d.reap {
		return
	}
	d.reap = false
	for i := 0; i < len(d.slots); {
		s := d.slots[i]
		if !s.closed.Load() {
			i++
			continue
		}
		if count(s.cnt[0].Load()) != 0 || count(s.cnt[1].Load()) != 0 {
			d.reap = true
			i++
			continue
		}
		d.removeLocked(s) // moves the last slot to i; look at i again
	}
}

// waitZero blocks until no slot counts a reader on index idx.
func (d *Domain) waitZero(idx uint32) {
	if d.sum(idx) == 0 {
		return
	}
	if s := d.sch; s != nil {
		s.Block(sched.Wait{What: "synchronize_srcu " + d.name}, func() bool { return d.sum(idx) == 0 })
		return
	}
	// The hung-task detector watches the wait: a grace period that does
	// not end (a reader that never leaves, a revoke from inside the
	// caller's own read section without lockdep) is reported.
	wt := d.e.Watch(env.Watched{What: "synchronize_srcu", Obj: d.name, Holders: d.readerHolders})
	defer wt.Done()
	// Store the flags before summing; an unlock decrements before it loads
	// them. Whichever comes second sees the other: no lost wakeup.
	d.writerWaiting.Store(true)
	d.slowUnlock.Store(true)
	for d.sum(idx) != 0 {
		<-d.wake
	}
	d.writerWaiting.Store(false)
	d.slowUnlock.Store(d.ld != nil)
	select { // drop a token a late unlock may have left
	case <-d.wake:
	default:
	}
}

// readerHolders names the readers holding the grace period, for the
// hung-task detector: the tasks in read sections when lockdep tracks them,
// else only their number.
func (d *Domain) readerHolders() ([]env.Owner, string) {
	n := d.Readers()
	if d.ld == nil {
		return nil, fmt.Sprintf("%d read sections open (holders unknown: lockdep is off; a revoke from inside the task's own read section never ends)", n)
	}
	who := d.ld.holders()
	return who, fmt.Sprintf("%d read sections open", n)
}

func (d *Domain) lockWriter() {
	s := d.sch
	if s == nil {
		d.mu.Lock()
		return
	}
	// Under a scheduler a task must never block where the scheduler cannot
	// see it, so writers queue through Block rather than a mutex.
	for !d.busy.CompareAndSwap(false, true) {
		s.Block(sched.Wait{What: "synchronize_srcu " + d.name + " (writer)"}, func() bool { return !d.busy.Load() })
	}
}

func (d *Domain) unlockWriter() {
	if d.sch == nil {
		d.mu.Unlock()
		return
	}
	d.busy.Store(false)
}

// wakeWriter tells a waiting Synchronize that a counter dropped.
func (d *Domain) wakeWriter() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}
