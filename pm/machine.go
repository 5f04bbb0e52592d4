package pm

import (
	"fmt"
	"sync"

	"github.com/drvsim/drvsim/bus"
	"github.com/drvsim/drvsim/device"
	"github.com/drvsim/drvsim/env"
	"github.com/drvsim/drvsim/kernel"
	"github.com/drvsim/drvsim/trace"
)

// machine is the PM core's state of one simulated machine, kept in its
// environment (env.Env.Local): what the kernel keeps in drivers/base/power's
// static variables (dpm_list and the lists of a transition, pm_wq,
// the transition in progress).
type machine struct {
	e    *env.Env
	core *bus.Core
	wq   *kernel.Workqueue // pm_wq, under a simulator

	mu     sync.Mutex
	dpm    dpmList // dpm_list and the lists of a transition (sleep.go)
	sleep  sleepState
	depth  int     // PM calls in progress (plain environment: pm_wq runs when the last returns)
	queued []*info // plain environment: pm_wq's items, oldest first
	runner bool    // plain environment: someone runs pm_wq's items now
}

type machineKey struct{}

// machineOf returns the PM core of e's machine.
func machineOf(e *env.Env) *machine {
	return e.Local(machineKey{}, func() any { return &machine{e: e} }).(*machine)
}

// Attach installs the PM core on machine m (a drvsim.System, a bus.Core):
// the driver core's power hooks (bus.PowerHooks) and, under a simulator,
// the pm_wq workqueue. drvsim.NewSystem calls it; calling it again does
// nothing. Devices added before Attach are not on the PM core's list:
// attach before adding any.
func Attach(m bus.Machine) error {
	if m == nil {
		return fmt.Errorf("pm: Attach: no machine: %w", device.ErrInvalid)
	}
	c := m.DriverCore()
	pm := machineOf(c.Env())
	pm.mu.Lock()
	if pm.core != nil {
		pm.mu.Unlock()
		return nil
	}
	pm.core = c
	pm.mu.Unlock()
	c.SetPowerHooks(hooks{pm})
	return nil
}

// workqueue returns pm_wq under a simulator (allocated on first use, as
// pm_start_workqueue does at boot), nil in the plain environment.
func (m *machine) workqueue() *kernel.Workqueue {
	if !m.e.Simulated() {
		return nil
	}
	m.mu.Lock()
	wq := m.wq
	m.mu.Unlock()
	if wq != nil {
		return wq
	}
	wq, err := kernel.AllocWorkqueue(m.e, "pm", kernel.WQFreezable, 0)
	if err != nil { // cannot happen: the name and flags are valid
		panic("pm: pm_start_workqueue: " + err.Error())
	}
	m.mu.Lock()
	if m.wq == nil {
		m.wq = wq
	}
	wq = m.wq
	m.mu.Unlock()
	return wq
}

// of returns the PM core of the machine h belongs to, nil when it has
// none attached.
func of(h env.Host) *machine {
	if h == nil {
		return nil
	}
	e := h.Env()
	if e == nil {
		return nil
	}
	m := machineOf(e)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.core == nil {
		return nil
	}
	return m
}

func (m *machine) emit(kind trace.Kind, dev *device.Device, fn, msg string) {
	path := ""
	if dev != nil {
		path = dev.Path()
	}
	m.e.Log().Emit(trace.Event{Kind: kind, Dev: path, Func: fn, Msg: msg})
}

// enter and exit bracket every PM entry point. In the plain environment
// the last one to leave runs the pm_wq items queued meanwhile, in order,
// the way the driver core runs its deferred-probe work at the end of a
// top-level operation. Under a simulator they only mark a postponed
// stretch: pm_wq is a workqueue whose worker is a task.
func (m *machine) enter() {
	m.e.PostponeBegin()
	m.mu.Lock()
	m.depth++
	m.mu.Unlock()
}

func (m *machine) exit() {
	defer m.e.PostponeEnd()
	m.mu.Lock()
	m.depth--
	if m.depth > 0 || m.runner || m.e.Simulated() {
		m.mu.Unlock()
		return
	}
	m.runner = true
	m.mu.Unlock()
	m.runQueued()
	m.mu.Lock()
	m.runner = false
	m.mu.Unlock()
}

// runQueued runs the plain environment's pm_wq items until none is left.
func (m *machine) runQueued() {
	for {
		m.mu.Lock()
		if len(m.queued) == 0 {
			m.mu.Unlock()
			return
		}
		in := m.queued[0]
		m.queued = m.queued[1:]
		m.mu.Unlock()
		in.mu.Lock()
		in.queued = false
		in.mu.Unlock()
		m.depth1(in.runWork)
	}
}

// depth1 runs fn as a PM call of its own.
func (m *machine) depth1(fn func()) {
	m.mu.Lock()
	m.depth++
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.depth--
		m.mu.Unlock()
	}()
	fn()
}

// queueWork is queue_work(pm_wq, &dev->power.work). Called without
// in.mu held.
func (m *machine) queueWork(in *info) {
	if wq := m.workqueue(); wq != nil {
		wq.Queue(in.workItem())
		return
	}
	in.mu.Lock()
	if in.queued {
		in.mu.Unlock()
		return
	}
	in.queued = true
	in.mu.Unlock()
	m.mu.Lock()
	m.queued = append(m.queued, in)
	m.mu.Unlock()
	m.emit(KindRuntime, in.dev, "queue_work", "pm_runtime_work on pm_wq")
}

// Flush is flush_workqueue(pm_wq): it returns once every runtime PM
// request queued on the machine of h has run. In the plain environment,
// where the requests run only when the outermost PM call returns, it is
// how a test or the shell lets the ones queued by a timer (the
// autosuspend timer fires when the virtual clock moves) run; under a
// simulator it waits for pm_wq's worker.
func Flush(h env.Host) {
	m := of(h)
	if m == nil {
		return
	}
	if wq := m.workqueue(); wq != nil {
		wq.Flush()
		return
	}
	m.enter()
	m.exit()
}

// hooks are the PM core's bus.PowerHooks.
type hooks struct{ m *machine }

func (h hooks) DeviceAdded(dev *device.Device)     { h.m.dpmAdd(dev) }
func (h hooks) DeviceRemoved(dev *device.Device)   { h.m.dpmRemove(dev) }
func (h hooks) DeviceMovedLast(dev *device.Device) { h.m.dpmMoveLast(dev) }

func (h hooks) ProbeBegin(dev *device.Device) {
	m := h.m
	m.enter()
	defer m.exit()
	in := m.infoOf(dev)
	in.getSuppliers() // pm_runtime_get_suppliers
	if p := dev.Parent(); p != nil {
		pi := m.infoOf(p)
		_ = pi.resume(flagGetPut, "pm_runtime_get_sync") // pm_runtime_get_sync(dev->parent)
	}
	in.barrier("pm_runtime_barrier")
}

func (h hooks) ProbeEnd(dev *device.Device) {
	m := h.m
	m.enter()
	defer m.exit()
	in := m.infoOf(dev)
	_ = in.idle(flagAsync, "pm_request_idle")
	if p := dev.Parent(); p != nil {
		_ = m.infoOf(p).idle(flagGetPut|flagAsync, "pm_runtime_put")
	}
	in.putSuppliers() // pm_runtime_put_suppliers
}

func (h hooks) UnbindBegin(dev *device.Device) {
	h.m.enter()
	defer h.m.exit()
	_ = h.m.infoOf(dev).resume(flagGetPut, "pm_runtime_get_sync")
}

func (h hooks) UnbindAbort(dev *device.Device) {
	h.m.enter()
	defer h.m.exit()
	_ = h.m.infoOf(dev).idle(flagGetPut|flagAsync, "pm_runtime_put")
}

func (h hooks) BeforeRemove(dev *device.Device) {
	h.m.enter()
	defer h.m.exit()
	_ = h.m.infoOf(dev).idle(flagGetPut, "pm_runtime_put_sync")
}

func (h hooks) UnbindCleanup(dev *device.Device) {
	h.m.enter()
	defer h.m.exit()
	h.m.infoOf(dev).reinit()
}

func (h hooks) LinkAdded(l *device.Link) {
	h.m.enter()
	defer h.m.exit()
	h.m.infoOf(l.Consumer).newLink()
}

// RuntimeStatus is rpm_status_show (power/runtime_status): "error" after
// a failed callback, "unsupported" while runtime PM is disabled, else the
// status with the usage count ("active,usage=1").
func (h hooks) RuntimeStatus(dev *device.Device) string {
	s, ok := StateOf(dev)
	switch {
	case !ok:
		return "unsupported"
	case s.Error != nil:
		return "error"
	case !s.Enabled:
		return "unsupported"
	}
	return fmt.Sprintf("%s,usage=%d", s.Status, s.Usage)
}

func (h hooks) LinkRemoved(l *device.Link) {
	h.m.enter()
	defer h.m.exit()
	h.m.infoOf(l.Consumer).dropLink(l)
}
