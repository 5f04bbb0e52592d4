package env_test

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
	"weak"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/trace"
)

// hungReports waits until e has kept n hung-task reports.
func hungReports(t *testing.T, e *env.Env, n int) []*env.Report {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		kept, _ := e.Reports()
		var out []*env.Report
		for _, r := range kept {
			if r.Kind == env.BugHung {
				out = append(out, r)
			}
		}
		if len(out) >= n || time.Now().After(deadline) {
			return out
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func quick() *env.Env {
	return env.New(env.WithHungTaskTimeout(30*time.Millisecond), env.WithHungTaskPanic(false))
}

// A watch open longer than the timeout is reported once, naming the task,
// the callback, the device and the driver; a trace.Warn event carries the
// title.
func TestHungTaskReportedOnce(t *testing.T) {
	e := quick()
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		w := e.Watch(env.Watched{What: "remove", Func: "device_remove", Dev: "/sys/devices/platform/x", Driver: "drv"})
		<-release
		w.Done()
	}()
	reps := hungReports(t, e, 1)
	require.Len(t, reps, 1)
	assert.Regexp(t, `^INFO: task goroutine \d+ blocked for more than 30ms in remove of driver drv on /sys/devices/platform/x \(device_remove\)$`, reps[0].Title)
	assert.Contains(t, reps[0].Details, "(in driver code)")
	warns := trace.Filter(e.Log().Events(), trace.OfKind(trace.Warn))
	require.Len(t, warns, 1)
	assert.Equal(t, "hung_task", warns[0].Func)
	close(release)
	<-done
	// Reported once: a later watch is not held against it.
	time.Sleep(60 * time.Millisecond)
	kept, _ := e.Reports()
	assert.Len(t, kept, 1)
}

// The wait-for chain follows the holders: B waits for a lock held by A,
// which is in a driver callback.
func TestHungTaskWaitForChain(t *testing.T) {
	e := quick()
	release := make(chan struct{})
	aReady := make(chan env.Owner)
	done := make(chan struct{}, 2)
	go func() {
		w := e.Watch(env.Watched{What: "probe", Func: "call_driver_probe", Dev: "/sys/devices/a", Driver: "slow"})
		aReady <- e.Self()
		<-release
		w.Done()
		done <- struct{}{}
	}()
	a := <-aReady
	var b env.Owner
	bReady := make(chan struct{})
	go func() {
		b = e.Self()
		close(bReady)
		w := e.Watch(env.Watched{What: "device_lock", Dev: "/sys/devices/a", Holders: func() ([]env.Owner, string) {
			return []env.Owner{a}, ""
		}})
		<-release
		w.Done()
		done <- struct{}{}
	}()
	<-bReady
	reps := hungReports(t, e, 2)
	close(release)
	<-done
	<-done
	require.Len(t, reps, 2)
	var forB *env.Report
	for _, r := range reps {
		if strings.Contains(r.Title, "device_lock") {
			forB = r
		}
	}
	require.NotNil(t, forB)
	name := func(o env.Owner) string { return env.Holder{Owner: o}.String() }
	assert.Contains(t, forB.Details, "wait-for chain:\n  "+name(b)+" -> [device_lock on /sys/devices/a] -> "+name(a)+"\n  "+
		name(a)+" -> [probe of driver slow on /sys/devices/a (call_driver_probe)] (in driver code)\n")
}

// A task waiting for itself (a lock it holds, a grace period its own read
// section holds) is named as a cycle.
func TestHungTaskSelfWait(t *testing.T) {
	e := quick()
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		me := e.Self()
		w := e.Watch(env.Watched{What: "synchronize_srcu", Obj: "dom", Holders: func() ([]env.Owner, string) {
			return []env.Owner{me}, "1 read sections open"
		}})
		<-release
		w.Done()
	}()
	reps := hungReports(t, e, 1)
	close(release)
	<-done
	require.Len(t, reps, 1)
	assert.Contains(t, reps[0].Details, "-> [synchronize_srcu dom] -> 1 read sections open -> goroutine")
	assert.Contains(t, reps[0].Details, "(cycle: the task waits for itself)")
}

// The detector is off with a zero timeout and under a simulator; in a test
// binary its default is TestHungTaskTimeout.
func TestHungTaskDefaults(t *testing.T) {
	assert.Equal(t, env.TestHungTaskTimeout, env.New().HungTaskTimeout())
	off := env.New(env.WithHungTaskTimeout(0))
	assert.Zero(t, off.HungTaskTimeout())
	assert.Nil(t, off.Watch(env.Watched{What: "x"}))
	off.Watch(env.Watched{What: "x"}).Done() // nil-safe
}

// In a test binary the detector panics with its report by default (the
// kernel's hung_task_panic): a hang fails the test with the wait-for
// chain instead of hanging it. The test re-runs itself in a subprocess
// whose task hangs.
func TestHungTaskPanicsInTests(t *testing.T) {
	if os.Getenv("DRVSIM_HUNG_CHILD") == "1" {
		e := env.New(env.WithHungTaskTimeout(20 * time.Millisecond))
		w := e.Watch(env.Watched{What: "remove", Dev: "/sys/devices/stuck", Driver: "forever"})
		defer w.Done()
		select {} // hangs; the detector ends the process
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHungTaskPanicsInTests$")
	cmd.Env = append(os.Environ(), "DRVSIM_HUNG_CHILD=1")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the hung child must fail, not pass or hang")
	assert.Contains(t, string(out), "panic: ")
	assert.Contains(t, string(out), "INFO: task goroutine")
	assert.Contains(t, string(out), "in remove of driver forever on /sys/devices/stuck")
}

// The detector's timer, armed until it fires, does not keep a dropped
// machine alive for the timeout.
func TestHungTaskTimerHoldsEnvWeakly(t *testing.T) {
	e := env.New(env.WithHungTaskTimeout(time.Hour), env.WithHungTaskPanic(false))
	e.Watch(env.Watched{What: "probe"}).Done() // arms the timer for an hour
	wp := weak.Make(e)
	e = nil
	for i := 0; i < 20 && wp.Value() != nil; i++ {
		runtime.GC()
	}
	assert.Nil(t, wp.Value(), "the Env is still reachable")
}
