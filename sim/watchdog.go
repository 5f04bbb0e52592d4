package sim

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"strings"
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

// abandon ends a run that reached no schedule point since progress was
// last: it reports the stuck task and unwinds the others. It returns false
// when the run moved on meanwhile.
func (s *Sim) abandon(last uint64) bool {
	s.sched.Lock()
	if s.progress.Load() != last {
		s.sched.Unlock()
		return false
	}
	select {
	case <-s.done:
		s.sched.Unlock()
		return true
	default:
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
