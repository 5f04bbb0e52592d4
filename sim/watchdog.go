package sim

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/drvsim/drvsim/env"
)

// The watchdog is the simulator's hung-task and soft-lockup detector. A
// task that waits on something the simulator does not control (a plain Go
// channel, a sync.Mutex, a sync.WaitGroup, I/O) or loops without a
// schedule point keeps every other task parked, and the run would hang.
// Run waits for the driver with a wall-clock timer: when no schedule point
// has been reached for Config.Watchdog, the run is reported stuck, with the
// task that holds control, its last schedule point and its goroutine's
// stack. The wall clock decides only whether a run is reported stuck;
// nothing it measures goes into a schedule or a trace.
//
// A goroutine cannot be unwound from outside, so the stuck task's goroutine
// is abandoned: the watchdog unwinds every other task (their deferred
// calls run, which may release what the stuck task waits for), and when
// the stuck task next reaches a schedule point, or returns, it unwinds
// too. Until then its goroutine, and the driver waiting on it, stay
// behind; the report says so.

// watch waits for the driver to end the run, or for the watchdog to find
// it stuck.
func (s *Sim) watch() {
	if s.cfg.Watchdog < 0 {
		<-s.done
		return
	}
	timer := s.pool.timer
	if timer == nil {
		timer = time.NewTimer(s.cfg.Watchdog)
		s.pool.timer = timer
	} else {
		timer.Reset(s.cfg.Watchdog)
	}
	defer timer.Stop()
	last := s.progress.Load()
	for {
		select {
		case <-s.done:
			return
		case <-timer.C:
		}
		if p := s.progress.Load(); p != last {
			last = p
			timer.Reset(s.cfg.Watchdog)
			continue
		}
		if s.abandon(last) {
			return
		}
		timer.Reset(s.cfg.Watchdog)
	}
}

// An Explore worker drives its runs on its own goroutine (runHere), and a
// stuck run holds that goroutine. The worker's watchdog is a goroutine of
// the worker's coroPool that polls the run in progress, a quarter of the
// watchdog period at a time, rather than a timer armed and a channel
// closed per run: with an idle P, each of those would wake a thread, and
// for a short run that doubles its cost. When it finds the run stuck it
// abandons it as watch does, and hands the result to the run's
// Config.then on a fresh goroutine, which carries on with the worker's
// search; the stuck goroutine is left behind, as a stuck driver is.

// workerWatchdog is an Explore worker's watchdog.
type workerWatchdog struct {
	run    atomic.Pointer[Sim] // the worker's run in progress, if any
	stop   chan struct{}
	exited chan struct{}
}

// watch makes the worker's watchdog guard run s, starting the watchdog on
// the worker's first run. Called by the worker's goroutine.
func (p *coroPool) watch(s *Sim) {
	if s.cfg.Watchdog < 0 {
		return
	}
	if p.dog == nil {
		p.dog = &workerWatchdog{stop: make(chan struct{}), exited: make(chan struct{})}
		go p.dog.loop()
	}
	p.dog.run.Store(s)
}

// unwatch tells the worker's watchdog that run s is over.
func (p *coroPool) unwatch(s *Sim) {
	if p.dog != nil {
		p.dog.run.CompareAndSwap(s, nil)
	}
}

// loop polls the worker's runs until stopped: a run whose progress has not
// moved for its Config.Watchdog is abandoned, and its worker's search goes
// on with its result on a fresh goroutine.
func (d *workerWatchdog) loop() {
	defer close(d.exited)
	var seen *Sim       // the run of the last poll
	var at uint64       // its progress then
	var since time.Time // when that progress was first seen
	timer := time.NewTimer(defaultWatchdog)
	defer timer.Stop()
	for {
		period := defaultWatchdog / 4
		if s := d.run.Load(); s != nil {
			period = max(s.cfg.Watchdog/4, time.Millisecond)
		}
		timer.Reset(period)
		select {
		case <-d.stop:
			return
		case <-timer.C:
		}
		s := d.run.Load()
		if s == nil {
			seen = nil
			continue
		}
		p, now := s.progress.Load(), time.Now()
		if s != seen || p != at {
			seen, at, since = s, p, now
			continue
		}
		if now.Sub(since) < s.cfg.Watchdog || !s.abandon(p) {
			continue
		}
		seen = nil
		d.run.CompareAndSwap(s, nil)
		if s.abandoned.Load() {
			go s.cfg.then(s.finish())
		}
	}
}

// close stops the watchdog and waits for it to exit.
func (d *workerWatchdog) close() {
	close(d.stop)
	<-d.exited
}

// abandon ends a run that reached no schedule point since progress was
// last: it reports the stuck task and unwinds the others. It returns false
// when the run moved on meanwhile, true when it is over: abandoned here
// (s.abandoned), or ended by its driver.
func (s *Sim) abandon(last uint64) bool {
	s.sched.Lock()
	if s.progress.Load() != last {
		s.sched.Unlock()
		return false
	}
	if !s.over.CompareAndSwap(endRunning, endAbandoned) {
		s.sched.Unlock()
		return true // the driver ended the run
	}
	t := s.cur.Load()
	g := s.driverGID.Load()
	if t != nil {
		g = t.gid.Load()
		s.stuck.Store(t)
	}
	s.abandoned.Store(true)
	s.aborting.Store(true)
	state, frames := goroutineStack(g)
	rep := s.stuckReport(t, state, frames)
	s.sched.Unlock()
	s.fail(rep)
	if t != nil {
		s.unwind(t)
	}
	s.cur.Store(nil)
	s.recycle()
	if s.cfg.pool == nil {
		s.pool.close()
	}
	s.runCleanups()
	return true
}

// stuckReport describes the stuck task t (nil: the simulator's own
// end-of-run code), whose goroutine is in state with the given frames.
func (s *Sim) stuckReport(t *task, state string, frames []string) *Report {
	var b strings.Builder
	who := "the end-of-run code (leak checks, abandon callbacks)"
	name := ""
	if t != nil {
		who, name = "task "+t.name, t.name
	}
	spinning := state == "running" || state == "runnable" || state == ""
	r := &Report{Task: name, Step: len(s.steps), Seq: s.log.Seq() + 1}
	if spinning {
		r.Kind = BugSoftLockup
		r.Title = fmt.Sprintf("BUG: soft lockup: %s ran for %v without a schedule point", who, s.cfg.Watchdog)
		fmt.Fprintf(&b, "%s has been running for %v (wall clock) without reaching a schedule point:\n", who, s.cfg.Watchdog)
		b.WriteString("a loop that neither yields nor waits through the simulator.\n")
	} else {
		r.Kind = BugHung
		r.Title = fmt.Sprintf("INFO: %s blocked outside the scheduler for more than %v", who, s.cfg.Watchdog)
		fmt.Fprintf(&b, "%s waits in [%s], which the simulator does not control (a plain Go channel,\n", who, state)
		b.WriteString("a sync.Mutex, a sync.WaitGroup, I/O): nothing simulated can wake it, and every other task\n")
		b.WriteString("is parked. Wait through the simulator instead (kernel.Mutex, kernel.WaitQueue,\n")
		b.WriteString("kernel.Completion, Sim.Block).\n")
	}
	if t != nil {
		if t.lastStep > 0 {
			fmt.Fprintf(&b, "Last schedule point of %s: step %d, %s.\n", t.name, t.lastStep, t.lastPoint)
		} else {
			fmt.Fprintf(&b, "%s has reached no schedule point yet.\n", t.name)
		}
	}
	b.WriteString("Go stack:\n")
	if len(frames) == 0 {
		b.WriteString("    (not found)\n")
	}
	for _, f := range frames {
		b.WriteString(f + "\n")
	}
	var others []string
	for _, u := range s.alive {
		if u != t {
			others = append(others, u.name+u.state())
		}
	}
	if len(others) > 0 {
		b.WriteString("Other unfinished tasks (unwound):\n")
		for _, o := range others {
			b.WriteString("  " + o + "\n")
		}
	}
	fmt.Fprintf(&b, "The goroutine of %s cannot be unwound from outside: it is abandoned, and goes on\n", who)
	b.WriteString("when what it waits for is released (or its loop ends), unwinding at its next schedule\n")
	b.WriteString("point; until then it is a leaked goroutine.\n")
	r.Details = b.String()
	return r
}

// goroutineStack returns the state ("chan receive", "running", ...) and
// the frames, as "    pkg.Func (file.go:12)", of goroutine id, leaving
// out the runtime's and the simulator's frames.
func goroutineStack(id uint64) (state string, frames []string) {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		if len(buf) >= 64<<20 {
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	head := []byte("goroutine " + strconv.FormatUint(id, 10) + " [")
	i := bytes.Index(buf, head)
	if i < 0 {
		return "", nil
	}
	block := buf[i+len(head):]
	if j := bytes.Index(block, []byte("\n\n")); j >= 0 {
		block = block[:j]
	}
	lines := strings.Split(string(block), "\n")
	state = lines[0]
	if j := strings.IndexAny(state, ",]"); j >= 0 {
		state = state[:j]
	}
	for k := 1; k+1 < len(lines) && len(frames) < 2*env.MaxFrames; k += 2 {
		fn := cutArgs(lines[k])
		if strings.HasPrefix(fn, "created by ") || strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "internal/") || strings.HasPrefix(fn, "iter.") ||
			strings.HasPrefix(fn, "github.com/drvsim/drvsim/sim.") {
			continue
		}
		file := strings.TrimSpace(lines[k+1])
		if j := strings.LastIndex(file, " +0x"); j >= 0 {
			file = file[:j]
		}
		frames = append(frames, "    "+env.ShortFunc(fn)+" ("+baseFile(file)+")")
	}
	return state, frames
}
