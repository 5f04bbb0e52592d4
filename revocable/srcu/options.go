package srcu

import (
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Option configures a Domain (New).
type Option func(*Domain)

// WithTrace records the domain's grace periods as trace.SRCU events on log.
func WithTrace(log *trace.Log) Option { return func(d *Domain) { d.log = log } }

// WithScheduler makes read lock, read unlock and the grace-period wait
// schedule points of s, and turns on holder tracking keyed by simulated
// task (s.Current()).
func WithScheduler(s sched.Scheduler) Option { return func(d *Domain) { d.sch = s } }

// WithLockdep turns on holder tracking: every read lock records, on a slow
// path, which goroutine holds it, so that Synchronize from inside one's own
// read section panics instead of deadlocking (the kernel's lockdep check on
// synchronize_srcu). Read lock and unlock then cost about a microsecond.
func WithLockdep() Option { return func(d *Domain) { d.ld = &lockdep{} } }
