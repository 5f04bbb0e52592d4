// Package toy holds the toy scenarios that show what package sim finds:
// a hot-unplug race that ends in a use-after-free (RacyDriver), a lock-order
// inversion that deadlocks (ABBA) and a probe whose error path leaks
// (ProbeXY). They are a few lines each, so a report about them reads
// quickly; sim's tests and docs/testing.md run the same ones, so the
// page's reports and replay lines are those of the tests.
//
// They model no kernel function; they model the bugs KASAN
// (use-after-free), lockdep (circular locking) and kmemleak (a leaked
// allocation) report.
package toy

import (
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/sim"
)

// RacyDriver is a driver with a hot-unplug race: the reader touches the
// device after a schedule point, and nothing keeps unplug from freeing it
// meanwhile.
func RacyDriver(s *sim.Sim) {
	dev := s.Alloc("usb_dev") // simulated memory, checked like KASAN
	s.Go("reader", func() {
		s.CondResched("before read")
		dev.Access("read")
	})
	s.Go("unplug", func() { dev.Free() })
}

// ABBA takes two mutexes in opposite orders in two tasks: the lock-order
// inversion lockdep reports as a possible circular locking dependency.
func ABBA(s *sim.Sim) {
	a, b := kernel.NewMutex(s, "A"), kernel.NewMutex(s, "B")
	s.Go("t1", func() {
		a.Lock()
		b.Lock()
		//lint:ignore SA2001 taking the locks is the point: the order is what lockdep checks
		b.Unlock()
		a.Unlock()
	})
	s.Go("t2", func() {
		b.Lock()
		a.Lock()
		//lint:ignore SA2001 taking the locks is the point: the order is what lockdep checks
		a.Unlock()
		b.Unlock()
	})
}

// ProbeXY returns a probe that consults fault point "x" twice, allocates a
// buffer, then consults "y"; its error path for y forgets to free the
// buffer. Every injected error is appended to *errs (errs may be nil).
func ProbeXY(errs *[]error) func(s *sim.Sim) {
	return func(s *sim.Sim) {
		failed := func(err error) bool {
			if err != nil && errs != nil {
				*errs = append(*errs, err)
			}
			return err != nil
		}
		s.Go("probe", func() {
			for i := 0; i < 2; i++ {
				if failed(s.Fault("x")) {
					return
				}
			}
			buf := s.Alloc("buf")
			if failed(s.Fault("y")) {
				return // bug: buf leaks
			}
			buf.Free()
		})
	}
}
