package bus_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/sched"
)

// newCoreIn is newCore in the environment e.
func newCoreIn(t *testing.T, e *env.Env) (*bus.Core, *bus.Bus) {
	t.Helper()
	c := bus.NewCore(e)
	t.Cleanup(c.Close)
	b := platform.NewBus()
	require.NoError(t, c.RegisterBus(b))
	return c, b
}

// point is a schedule point of a test driver.
func point(what string) sched.Point { return sched.Point{Kind: "cond_resched", Obj: what} }

// waitReports waits until e has kept at least n reports of kind k (the
// hung-task detector files them from its timer) and returns those.
func waitReports(t *testing.T, e *env.Env, k env.BugKind, n int) []*env.Report {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		kept, _ := e.Reports()
		var out []*env.Report
		for _, r := range kept {
			if r.Kind == k {
				out = append(out, r)
			}
		}
		if len(out) >= n {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s reports after 20s, want %d: %v", len(out), k, n, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
