package pm_test

import (
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/drvsim/drvsim"
	"github.com/drvsim/drvsim/bus/platform"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/driver"
	"github.com/drvsim/drvsim/internal/raceexit"
)

func TestMain(m *testing.M) {
	raceexit.NoSleep()
	goleak.VerifyTestMain(m)
}

// recorder collects "device:callback" lines in the order the callbacks
// ran, and can make one callback fail.
type recorder struct {
	mu    sync.Mutex
	calls []string
	fail  map[string]error // "device:callback" -> error
}

func (r *recorder) add(dev *device.Device, what string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := dev.Name() + ":" + what
	r.calls = append(r.calls, k)
	return r.fail[k]
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// ops returns dev_pm_ops recording every system sleep and runtime
// callback into r.
func (r *recorder) ops() *device.PMOps {
	cb := func(what string) func(*device.Device) error {
		return func(d *device.Device) error { return r.add(d, what) }
	}
	return &device.PMOps{
		Prepare:        cb("prepare"),
		Complete:       func(d *device.Device) { _ = r.add(d, "complete") },
		Suspend:        cb("suspend"),
		Resume:         cb("resume"),
		SuspendLate:    cb("suspend_late"),
		ResumeEarly:    cb("resume_early"),
		SuspendNoirq:   cb("suspend_noirq"),
		ResumeNoirq:    cb("resume_noirq"),
		RuntimeSuspend: cb("runtime_suspend"),
		RuntimeResume:  cb("runtime_resume"),
	}
}

// newSystem returns a System closed at the end of the test.
func newSystem(t *testing.T) *drvsim.System {
	t.Helper()
	sys := drvsim.NewSystem()
	t.Cleanup(sys.Close)
	return sys
}

// bindAll registers one platform driver named name, with r's callbacks,
// probe and remove as given (nil: bind, nothing), and returns it.
func bindDriver(t *testing.T, sys *drvsim.System, name string, r *recorder, probe func(*device.Device) error, remove func(*device.Device)) *driver.Driver {
	t.Helper()
	drv := platform.NewDriver(name, probe, remove)
	drv.PM = r.ops()
	if err := sys.RegisterDriver(drv); err != nil {
		t.Fatal(err)
	}
	return drv
}

// addDevice registers a platform device named name (with parent, if not
// nil).
func addDevice(t *testing.T, sys *drvsim.System, name string, parent *device.Device) *device.Device {
	t.Helper()
	var opts []device.Option
	if parent != nil {
		opts = append(opts, device.WithParent(parent))
	}
	dev := sys.NewPlatformDevice(name, opts...)
	if err := sys.RegisterDevice(dev); err != nil {
		t.Fatal(err)
	}
	return dev
}
