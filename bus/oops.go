package bus

import "github.com/drvsim/drvsim/env"

// Every driver and bus callback runs under recover: a panic in it is an
// oops (env.Env.Oops: a trace.Oops event, a BugPanic report, an error
// matching env.ErrOops), and the core unwinds as if the callback had
// failed: a probe that oopsed is a failed probe (its devres released, the
// device left unbound), a remove or shutdown that oopsed has returned, a
// notifier that oopsed is skipped. Locks the core holds around a callback
// are released with defer. Every top-level operation is a postponed
// stretch of the environment (enter and exit), so that under a simulator
// the oops fails the run only once the operation has left the machine
// consistent. docs/lifecycle.md says what the kernel does instead.

// recoverOops is deferred, directly, by every function that calls a driver
// or bus callback: a panic in the callback becomes an *env.Oops stored in
// *err. The callback is called from that function itself, so that call
// traces (KASAN's, an oops's) show the kernel's frames, not a wrapper's.
func (c *Core) recoverOops(err *error, w env.Watched) {
	if v := recover(); v != nil {
		o := c.env.Oops(v, env.OopsSite{Func: w.Func, Callback: w.What, Dev: w.Dev, Driver: w.Driver})
		if err != nil {
			*err = o
		}
	}
}
