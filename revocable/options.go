package revocable

import (
	"github.com/drvsim/drvsim/sched"
	"github.com/drvsim/drvsim/trace"
)

// Option configures a Provider (NewProvider, DevmProvider).
type Option func(*options)

type options struct {
	name    string
	log     *trace.Log
	sch     sched.Scheduler
	lockdep bool
}

// WithName names the provider in trace events, schedule points and panic
// messages. The default is "revocable".
func WithName(name string) Option { return func(o *options) { o.name = name } }

// WithTrace records the provider's lifecycle and its grace periods on log.
func WithTrace(log *trace.Log) Option { return func(o *options) { o.log = log } }

// WithScheduler makes the provider's read sections, revoke and grace-period
// waits schedule points of s (a deterministic run). It also turns on the
// lockdep check of WithLockdep, keyed by simulated task (s.Current()).
func WithScheduler(s sched.Scheduler) Option { return func(o *options) { o.sch = s } }

// WithLockdep turns on the debug check the kernel's lockdep performs for
// synchronize_srcu inside srcu_read_lock: every TryAccess records, on a slow
// path, the goroutine that holds the section, and Revoke from a goroutine
// inside its own read section panics naming the provider instead of
// deadlocking. It makes TryAccess and Release cost about a microsecond more
// (srcu.WithLockdep).
func WithLockdep() Option { return func(o *options) { o.lockdep = true } }
