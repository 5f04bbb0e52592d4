package kernel

import (
	"time"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
)

// CondResched is cond_resched(): a point where the calling task may be
// preempted. Under the simulator another task may run here (what names
// the point in schedules); in the plain environment it does nothing.
func CondResched(h env.Host, what string) {
	env.Of(h).Yield(sched.Point{Kind: "cond_resched", Obj: what})
}

// Msleep is msleep(): the calling task sleeps for d of the machine's
// virtual time (see env.Env.Sleep). It may sleep: called in atomic context
// it is reported.
func Msleep(h env.Host, d time.Duration) {
	e := env.Of(h)
	e.MightSleep("msleep")
	e.Sleep(d)
}
